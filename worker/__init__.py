"""The Temporal worker process and the local development stack."""
