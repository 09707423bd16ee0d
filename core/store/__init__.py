"""Data access: the only code that speaks SQL to the service's tables.

- `cases`: cases, case_events, team_notifications, intake_requests (`CaseStore`);
- `links`: remote_authorizations, remote_sessions, outbound_emails (`LinkStore`);
- `keys`: api_keys;
- `reports`: the SLA report's statement over cases.

Methods take keyword arguments and answer typed rows. The schema itself is
`core/migrations/` (applied by `core.db.migrate`).
"""

from core.store.cases import (
    CaseFilter,
    CaseStore,
    CaseSummary,
    NewEvent,
    StoredEvent,
    StoredNotification,
)
from core.store.links import AuthorizationLink, LinkStore, SessionLink, hash_secret

__all__ = [
    "AuthorizationLink",
    "CaseFilter",
    "CaseStore",
    "CaseSummary",
    "LinkStore",
    "NewEvent",
    "SessionLink",
    "StoredEvent",
    "StoredNotification",
    "hash_secret",
]
