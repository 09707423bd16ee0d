"""The support case: domain vocabulary, SLA policy, lifecycle rules and the workflow."""
