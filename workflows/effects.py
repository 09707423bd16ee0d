"""What a change to a case asks the world to do, as typed records.

A transition (`workflows.transitions`) changes the state and returns `Effects`: events
for the case's log, notices for the agents or supervisors, and mails to the customer.
The workflow then hands them to its delivery lanes; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

Audience = Literal["agents", "supervisors"]
SYSTEM = "sistema"


class EventType(StrEnum):
    """Every kind of entry in a case's event log (the values are stored and shown)."""

    CASE_REGISTERED = "case_registered"
    CASE_QUEUED = "case_queued"
    STAGE_CHANGED = "stage_changed"
    CONTACT_LOGGED = "contact_logged"
    FIRST_RESPONSE = "first_response"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    SEVERITY_CHANGED = "severity_changed"
    PLAN_CHANGED = "plan_changed"
    REMOTE_ACCESS_REQUESTED = "remote_access_requested"
    REMOTE_ACCESS_AUTHORIZED = "remote_access_authorized"
    REMOTE_ACCESS_REJECTED = "remote_access_rejected"
    REMOTE_ACCESS_REVOKED = "remote_access_revoked"
    REMOTE_ACCESS_EXPIRED = "remote_access_expired"
    REMOTE_ACCESS_ENDED = "remote_access_ended"
    REMOTE_ACCESS_SUPERSEDED = "remote_access_superseded"
    REMOTE_SESSION_STARTED = "remote_session_started"
    REMOTE_SESSION_ENDED = "remote_session_ended"
    CASE_RESOLVED = "case_resolved"
    CASE_REOPENED = "case_reopened"
    CASE_CLOSED = "case_closed"
    CASE_CANCELLED = "case_cancelled"
    MESSAGE_UNDELIVERABLE = "message_undeliverable"
    PROJECTION_REJECTED = "projection_rejected"


class CustomerMessage(StrEnum):
    """The mails a customer receives; each has its Spanish templates."""

    ACKNOWLEDGEMENT = "acknowledgement"
    AUTHORIZATION_REQUEST = "authorization_request"
    SESSION_LINK = "session_link"
    RESOLUTION = "resolution"
    # Confirmations of the customer's decisions and of a session's end (workflow patch
    # "decision-mails"): the time, and what the technician may do until when.
    ACCESS_AUTHORIZED = "access_authorized"
    ACCESS_REJECTED = "access_rejected"
    ACCESS_REVOKED = "access_revoked"
    SESSION_ENDED = "session_ended"


@dataclass(frozen=True)
class Event:
    """One entry for the case's event log; `data` already holds JSON values (`Effects.event`)."""

    type: EventType
    actor: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Notice:
    """A message for the agents' or the supervisors' mailbox, typed by the event that caused it."""

    audience: Audience
    kind: EventType
    message: str


@dataclass
class Effects:
    """What one change asks of the world, collected while a transition runs.

    The workflow turns it into one `Change` with its own revision, so everything a single
    action or deadline caused is persisted and delivered together; empty effects change
    nothing and take no revision.
    """

    events: list[Event] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    customer: list[CustomerMessage] = field(default_factory=list)

    def event(self, type_: EventType, actor: str, **data: Any) -> None:
        """Log an event. Values become JSON here (instants as ISO text, enums as their values), so
        PostgreSQL and the Temporal UI show the same text.
        """
        self.events.append(Event(type_, actor, _jsonable(data)))

    def notify(self, audience: Audience, kind: EventType, message: str) -> None:
        """Queue a notice; the team lane delivers it later, never holding up the clock."""
        self.notices.append(Notice(audience, kind, message))

    def mail(self, kind: CustomerMessage) -> None:
        """Queue a customer mail; its content is taken from the case as this change leaves it."""
        self.customer.append(kind)

    def extend(self, other: Effects) -> None:
        """Take in another transition's effects, for a change made of several (auto-close)."""
        self.events += other.events
        self.notices += other.notices
        self.customer += other.customer

    def __bool__(self) -> bool:
        return bool(self.events or self.notices or self.customer)


_CONFIRMS = {
    EventType.REMOTE_ACCESS_AUTHORIZED: CustomerMessage.ACCESS_AUTHORIZED,
    EventType.REMOTE_ACCESS_REJECTED: CustomerMessage.ACCESS_REJECTED,
    EventType.REMOTE_ACCESS_REVOKED: CustomerMessage.ACCESS_REVOKED,
    EventType.REMOTE_SESSION_ENDED: CustomerMessage.SESSION_ENDED,
}


def confirmations(fx: Effects) -> list[CustomerMessage]:
    """The mails that confirm to the customer what `fx` did to their remote access. A
    revocation's mail also tells of the session it ended, so that end has none of its
    own. The workflow adds them behind a version marker, so the transitions (and the
    histories recorded before) stay as they were."""
    kinds = [_CONFIRMS[e.type] for e in fx.events if e.type in _CONFIRMS]
    if CustomerMessage.ACCESS_REVOKED in kinds:
        kinds = [k for k in kinds if k is not CustomerMessage.SESSION_ENDED]
    return kinds


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Event data as JSON values, so the log reads the same in PostgreSQL and the UI."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "model_dump"):
            out[key] = value.model_dump(mode="json")
        elif isinstance(value, list):
            out[key] = [getattr(v, "value", v) for v in value]
        else:
            out[key] = getattr(value, "value", value)
    return out
