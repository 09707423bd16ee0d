"""What crosses the workflow's boundary: its input, its answers, and activity inputs.

Activity inputs carry what changed and the few fields a message needs, never the whole
case, so a case's history grows by a constant amount per action (issue: histories stay
small). Every model is pydantic, so fields can be added with defaults without breaking
running histories.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from workflows.domain import Plan, Severity
from workflows.effects import CustomerMessage
from workflows.models import (
    AuthorizationStatus,
    CaseState,
    CaseTimings,
    Customer,
    Model,
    RemoteAccessKind,
    RemoteAuthorization,
    ResolutionMethod,
    SeverityAssignment,
)
from workflows.sla import Commitment, SlaPolicy
from workflows.text import MAX_AFFECTED_SERVICES, Description, Identifier, Summary


class CaseEvent(Model):
    """An event as version 1 sent it, id and all (see `Change` for today's shape)."""

    event_id: str
    case_id: str
    type: str
    at: datetime
    actor: str
    data: dict[str, Any] = Field(default_factory=dict)
    revision: int = 0  # the case's revision this event produced


class EventRecord(Model):
    """One entry of a case's event log, as it travels inside a `Change`.

    It carries no id or time of its own: both follow from the change (`event_id`,
    `Change.at`), which keeps what history stores per event small.
    """

    type: str
    actor: str
    data: dict[str, Any] = Field(default_factory=dict)


class TeamNotification(Model):
    """A notice to the agents' or the supervisors' mailbox (a case queued, an SLA warning or
    breach, a customer's decision, a message that could not be delivered).

    `notification_id` is drawn by the workflow and is the Message-ID and the database key, so
    a retried delivery or projection is recognised as the same notice, not sent twice.
    """

    notification_id: str
    case_id: str
    audience: Literal["agents", "supervisors"]
    kind: str
    message: str
    # When the workflow queued it: its delivery budget counts from here, not from when
    # the lane got to it behind other messages.
    queued_at: datetime | None = None


class Change(Model):
    """One revision of a case: what happened at one instant, in order. Its events' ids
    follow from the case, the revision and their position (`event_id`), so they need
    not travel with them."""

    revision: int
    at: datetime
    events: list[EventRecord] = Field(default_factory=list)
    notices: list[TeamNotification] = Field(default_factory=list)


_EVENT_IDS = uuid.UUID("4f8c2a52-6a0e-4c1b-9a5e-2f3d7c9b1e60")


def event_id(case_id: str, revision: int, position: int) -> str:
    """The stable id of an event: a retried write finds the same one."""
    return str(uuid.uuid5(_EVENT_IDS, f"{case_id}/{revision}/{position}"))


class ProjectionBatch(Model):
    """New changes of one case, in order, for the read model in PostgreSQL.

    The case document itself is read by the activity from the workflow (a query), so it
    is not copied into history with every change.
    """

    case_id: str
    changes: list[Change] = Field(default_factory=list)

    @property
    def event_types(self) -> list[str]:
        """The batch's event types in order: its activity summary and what a rejection names."""
        return [e.type for c in self.changes for e in c.events]


class MailCase(Model):
    """The part of a case that customer mails show. Only the acknowledgement states the
    commitment, so only it carries the fields below `summary`."""

    case_id: str
    customer: Customer
    summary: str
    plan: Plan | None = None
    severity: Severity | None = None
    registered_at: datetime | None = None
    commitment: Commitment | None = None


class AuthorizationMail(Model):
    """What the customer's mails about a remote-access request show: who asks, for which kind of
    access and why, by when to answer and how long access lasts once granted: what the
    customer needs to know before deciding.
    """

    request_id: str
    agent: str
    access: RemoteAccessKind
    reason: str
    expires_at: datetime
    access_hours: float
    # For the confirmations: when the customer decided, until when access lasts, and
    # whether a revocation ended a session.
    decided_at: datetime | None = None
    access_until: datetime | None = None
    session_ended: bool = False


class SessionMail(Model):
    """What the customer's mails about a remote session show: until when it may run and, once
    it ended, how, and whether the technician may still connect under the same authorization.
    """

    session_id: str
    request_id: str
    agent: str
    expires_at: datetime
    # For the end of a session: when it ran, how it ended, and until when the
    # authorization behind it still lets the technician connect (None: no longer).
    started_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None
    valid_until: datetime | None = None


class ResolutionMail(Model):
    """What the resolution mail shows: how the case was solved and until when it can be reopened."""

    summary: str
    methods: list[ResolutionMethod]
    reopen_until: datetime | None


class CustomerMail(Model):
    """One mail to the customer, with only the parts its `kind` needs (see the module: activity
    inputs carry what the message shows, never the whole case).

    `mail_id` follows from what the mail is about (the request, the session, the decision),
    so a retried send is recognised as already sent and each decision is confirmed once.
    """

    mail_id: str  # the Message-ID: a retried send is the same message
    kind: CustomerMessage
    case: MailCase
    authorization: AuthorizationMail | None = None
    session: SessionMail | None = None
    resolution: ResolutionMail | None = None
    queued_at: datetime | None = None  # as for TeamNotification


def customer_mail(
    kind: CustomerMessage, state: CaseState, notice_id: str, queued_at: datetime | None = None
) -> CustomerMail:
    """The mail of `kind` about the case as it is now."""
    case = MailCase(case_id=state.case_id, customer=state.customer, summary=state.summary)
    if kind is CustomerMessage.ACKNOWLEDGEMENT:
        case.plan, case.severity = state.plan, state.severity
        case.registered_at, case.commitment = state.registered_at, state.sla.commitment
    mail = CustomerMail(
        mail_id=f"{kind.value}-{notice_id}", kind=kind, case=case, queued_at=queued_at
    )
    if kind is CustomerMessage.AUTHORIZATION_REQUEST:
        auth = state.authorization
        assert auth is not None
        mail.mail_id = f"authorization-{auth.request_id}"
        mail.authorization = _authorization_mail(state, auth)
        mail.authorization.access_until = None  # not granted yet
    elif kind is CustomerMessage.SESSION_LINK:
        session = state.sessions[-1]
        mail.mail_id = f"session-{session.session_id}"
        mail.session = SessionMail(
            session_id=session.session_id,
            request_id=session.request_id,
            agent=session.agent_name or session.agent,
            expires_at=session.expires_at,
        )
    elif kind is CustomerMessage.RESOLUTION:
        last = state.resolutions[-1]
        mail.resolution = ResolutionMail(
            summary=last.summary, methods=last.methods, reopen_until=state.reopen_until
        )
    elif kind in _DECIDED:
        auth = state.authorization
        assert auth is not None
        mail.mail_id = f"{kind.value}-{auth.request_id}"  # one decision of each per request
        mail.authorization = _authorization_mail(state, auth)
        mail.authorization.decided_at = auth.consents[-1].at if auth.consents else None
        mail.authorization.session_ended = any(
            s.request_id == auth.request_id and s.outcome == "revoked_by_customer"
            for s in state.sessions
        )
    elif kind is CustomerMessage.SESSION_ENDED:
        mail.session = _ended_session(state)
        mail.mail_id = f"session-ended-{mail.session.session_id}"
    return mail


_DECIDED = frozenset(
    {
        CustomerMessage.ACCESS_AUTHORIZED,
        CustomerMessage.ACCESS_REJECTED,
        CustomerMessage.ACCESS_REVOKED,
    }
)


def _authorization_mail(state: CaseState, auth: RemoteAuthorization) -> AuthorizationMail:
    return AuthorizationMail(
        request_id=auth.request_id,
        agent=auth.agent_name or auth.agent,  # the person, in the consent text and mails
        access=auth.access,
        reason=auth.reason,
        expires_at=auth.expires_at,
        access_hours=state.timings.session_ttl_seconds / 3600,
        access_until=auth.access_until,
    )


def _ended_session(state: CaseState) -> SessionMail:
    session = state.sessions[-1]
    assert session.ended_at is not None
    auth = next(a for a in state.authorizations if a.request_id == session.request_id)
    until = auth.access_until
    granted = auth.status is AuthorizationStatus.GRANTED
    return SessionMail(
        session_id=session.session_id,
        request_id=session.request_id,
        agent=session.agent_name or session.agent,
        expires_at=session.expires_at,
        started_at=session.started_at,
        ended_at=session.ended_at,
        outcome=session.outcome,
        valid_until=until if granted and until is not None and session.ended_at < until else None,
    )


class Answer(Model):
    """An applied action, kept so that a retry is answered instead of applied again."""

    key: str  # action, acting identity and request id
    body_sha256: str
    revision: int


class Pending(Model):
    """Effects not yet delivered when the workflow continues as new."""

    projection: list[Change] = Field(default_factory=list)
    team: list[TeamNotification] = Field(default_factory=list)
    customer: list[CustomerMail] = Field(default_factory=list)


class CaseInput(Model):
    """Workflow input. `state` and what follows are set only when continuing as new."""

    case_id: str
    customer: Customer
    plan: Plan
    severity: SeverityAssignment
    summary: Summary
    description: Description | None = None
    affected_services: list[Identifier] = Field(
        default_factory=list, max_length=MAX_AFFECTED_SERVICES
    )
    registered_at: datetime
    opened_by: str
    policy: SlaPolicy
    timings: CaseTimings = Field(default_factory=CaseTimings)
    state: CaseState | None = None
    seen_request_ids: list[str] = Field(default_factory=list)  # before answers were kept
    answers: list[Answer] = Field(default_factory=list)
    pending: Pending = Field(default_factory=Pending)


class ActionResult(Model):
    """An update's answer: small, so history does not copy the case with every action.
    The API reads what it shows from the workflow (a query) or the read model."""

    case_id: str
    revision: int
    replayed: bool = False  # a retry of an action applied before


# --- Inputs of the activities of workflow version 1, kept while such cases run ---


class CaseRecord(Model):
    """Input of version 1's `record_case` activity: the whole case and its new events.

    Kept only so that cases started by version 1 replay and finish; its fields must not
    change, or their recorded histories no longer decode.
    """

    state: CaseState
    events: list[CaseEvent]


class CustomerNotice(Model):
    """Input of version 1's `send_customer_notice` activity (acknowledgement, resolution).

    Kept only so that cases started by version 1 replay and finish; its fields must not
    change, or their recorded histories no longer decode.
    """

    notice_id: str
    kind: Literal["acknowledgement", "resolution"]
    state: CaseState


class AuthorizationRequestNotice(Model):
    """Input of version 1's `request_customer_authorization` activity.

    Kept only so that cases started by version 1 replay and finish; its fields must not
    change, or their recorded histories no longer decode.
    """

    state: CaseState
    request_id: str
    access_hours: float


class SessionLinkNotice(Model):
    """Input of version 1's `issue_session_link` activity.

    Kept only so that cases started by version 1 replay and finish; its fields must not
    change, or their recorded histories no longer decode.
    """

    state: CaseState
    session_id: str
