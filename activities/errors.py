"""Failure classes the activities raise, by the name Temporal's retry policy matches.

An error that cannot succeed on retry is raised as an `ApplicationError` of one of these
types with `non_retryable=True`, and the workflow records it on the case instead of
retrying.
"""

from __future__ import annotations

# PostgreSQL refused the data itself (not the connection): retrying sends the same data.
PROJECTION_REJECTED = "ProjectionRejected"
# The mail server refused the recipient for good (5xx).
UNDELIVERABLE = "Undeliverable"
# The message cannot be built (an address or header the mailer cannot encode).
UNBUILDABLE = "UnbuildableMessage"
