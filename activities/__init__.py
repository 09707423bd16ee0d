"""Activities: the I/O of a case (PostgreSQL through `core.data`, SMTP) as Temporal
activities, and nothing else."""
