"""Activities: the I/O of a case (PostgreSQL, SMTP) and the settings they read."""
