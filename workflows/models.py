"""Messages and state of a support case.

Every workflow, update and activity takes a single pydantic model so that fields can be
added later without breaking running histories (Temporal serialises them as JSON).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.domain import Plan, Severity, SlaState, Stage
from workflows.severity import ImpactAssessment
from workflows.sla import Commitment
from workflows.text import (
    Description,
    Identifier,
    MailAddress,
    Name,
    Note,
    Phone,
    Reason,
    RequestId,
)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Customer(Model):
    id: Identifier
    name: Name
    email: MailAddress
    phone: Phone | None = None


class ContactChannel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class ContactOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    SENT = "sent"


class RemoteAccessKind(StrEnum):
    VIEW = "view"
    CONTROL = "control"


class ResolutionMethod(StrEnum):
    PHONE = "phone"
    REMOTE = "remote"


class AuthorizationStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class SeverityAssignment(Model):
    """How the severity was set: by the intake agent's judgement or by the impact rules."""

    severity: Severity
    reason: str
    rule: str | None = None
    impact: ImpactAssessment | None = None


class CaseTimings(Model):
    """Durations that come from settings, pinned on the case when it opens."""

    authorization_ttl_seconds: float = 24 * 3600
    session_ttl_seconds: float = 8 * 3600
    reopen_window_seconds: float = 5 * 24 * 3600
    # How long a message may keep failing for a transient reason before it is recorded
    # as undeliverable and the agents are told.
    message_budget_seconds: float = 24 * 3600


class SlaStatus(Model):
    commitment: Commitment
    state: SlaState
    responded_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None


class ContactAttempt(Model):
    attempt_id: str
    channel: ContactChannel
    outcome: ContactOutcome
    agent: str
    note: str | None = None
    at: datetime

    @property
    def reached_customer(self) -> bool:
        return self.outcome in (ContactOutcome.REACHED, ContactOutcome.SENT)


class Consent(Model):
    decision: Literal["authorized", "rejected", "revoked"]
    at: datetime
    ip: str | None
    user_agent: str | None
    text_shown: str


class RemoteAuthorization(Model):
    request_id: str
    access: RemoteAccessKind
    reason: str
    agent: str
    agent_name: str | None = None  # the person, as shown to the customer (else `agent`)
    requested_at: datetime
    expires_at: datetime  # the customer must answer before this
    status: AuthorizationStatus = AuthorizationStatus.PENDING
    access_until: datetime | None = None  # set when granted
    consents: list[Consent] = Field(default_factory=list)


class RemoteSession(Model):
    session_id: str
    request_id: str
    agent: str
    agent_name: str | None = None  # as on RemoteAuthorization
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None
    summary: str | None = None


class Resolution(Model):
    methods: list[ResolutionMethod]
    summary: str
    agent: str
    at: datetime


class CaseState(Model):
    """The whole case: what the workflow carries, what PostgreSQL stores, what the API shows."""

    case_id: str
    revision: int = 0
    stage: Stage
    plan: Plan
    severity: Severity
    severity_assignment: SeverityAssignment
    customer: Customer
    summary: str
    description: str | None = None
    affected_services: list[str] = Field(default_factory=list)
    registered_at: datetime
    opened_by: str
    timings: CaseTimings
    sla: SlaStatus
    queued_at: datetime | None = None
    contacts: list[ContactAttempt] = Field(default_factory=list)
    authorizations: list[RemoteAuthorization] = Field(default_factory=list)
    sessions: list[RemoteSession] = Field(default_factory=list)
    resolutions: list[Resolution] = Field(default_factory=list)
    resolved_at: datetime | None = None
    reopen_until: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def authorization(self) -> RemoteAuthorization | None:
        return self.authorizations[-1] if self.authorizations else None

    @property
    def active_session(self) -> RemoteSession | None:
        if self.sessions and self.sessions[-1].ended_at is None:
            return self.sessions[-1]
        return None

    @property
    def customer_reached(self) -> bool:
        return any(c.reached_customer for c in self.contacts)


def check_outcome(channel: ContactChannel, outcome: ContactOutcome) -> None:
    """An email is sent; a phone call is reached, unanswered or left on voicemail."""
    email = channel is ContactChannel.EMAIL
    if email != (outcome is ContactOutcome.SENT):
        allowed = "sent" if email else "reached, no_answer, voicemail"
        raise ValueError(
            f"outcome {outcome.value!r} does not fit channel {channel.value!r} (allowed: {allowed})"
        )


# --- Updates: one model each. `request_id` lets a client retry an action safely. ---


class ActionInput(Model):
    actor: Name
    request_id: RequestId | None = None

    def body_digest(self) -> str:
        """What a retry must repeat: the body without the retry key and the details a
        browser may send differently on a second click (address, user agent, proof)."""
        # `agent_name` is who `actor` is, as the API knew them: not part of the request.
        body = self.model_dump_json(
            exclude={"request_id", "ip", "user_agent", "proof", "agent_name"}
        )
        return hashlib.sha256(body.encode()).hexdigest()


class LogContact(ActionInput):
    channel: ContactChannel
    outcome: ContactOutcome
    note: Note | None = None

    @model_validator(mode="after")
    def _outcome_fits_channel(self) -> LogContact:
        check_outcome(self.channel, self.outcome)
        return self


class RequestRemoteAccess(ActionInput):
    reason: Reason
    access: RemoteAccessKind
    # The technician as the customer reads them (the key's display name, set by the API
    # from who authenticated); None in histories from before it, which show `actor`.
    agent_name: Name | None = None


class DecideRemoteAccess(ActionInput):
    """Sent only by the authorization page, after the customer's token was checked."""

    authorization_id: Identifier
    decision: Literal["authorized", "rejected", "revoked"]
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    text_shown: Description
    # HMAC by the API over the decision (see `workflows.consent`): only the customer's
    # page can make one, so a decision sent to Temporal by anyone else is refused.
    proof: str | None = Field(default=None, max_length=128)


class StartRemoteSession(ActionInput):
    """Needs a granted, unexpired authorization; the customer gets the session link."""

    agent_name: Name | None = None  # as on RequestRemoteAccess


class EndRemoteSession(ActionInput):
    outcome: Literal["completed", "incomplete", "failed"]
    summary: Reason


class Resolve(ActionInput):
    methods: list[ResolutionMethod] = Field(min_length=1)
    summary: Reason


class Close(ActionInput):
    """Closes a resolved case before its reopen window ends."""


class Reopen(ActionInput):
    reason: Reason


class Cancel(ActionInput):
    reason: Reason


class ChangeSeverity(ActionInput):
    severity: Severity
    reason: Reason


class ChangePlan(ActionInput):
    plan: Plan
    reason: Reason
