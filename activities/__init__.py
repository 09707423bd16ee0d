"""Activities: the I/O of a case (PostgreSQL through `core.store`, SMTP) as Temporal
activities, and nothing else."""
