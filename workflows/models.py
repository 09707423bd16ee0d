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
    """Base of the case's models: an unknown field is an error, never silently dropped.

    A client's misspelt field is refused (HTTP 422) instead of ignored. The same holds for
    workflow payloads: a field written by newer code fails to load on a worker that lacks it,
    so a new field is deployed to every worker before anything sends it.
    """

    model_config = ConfigDict(extra="forbid")


class Customer(Model):
    """The customer a case is for, and how the support team reaches them.

    The seed has the team contact the user "mediante correo electrónico o telefónicamente":
    `email` receives the acknowledgement, the remote-access request and the resolution, so it
    must be an address our mailer can deliver to; `phone` is optional. `id` identifies who may
    decide on remote access from the customer's page.
    """

    id: Identifier
    name: Name
    email: MailAddress
    phone: Phone | None = None


class ContactChannel(StrEnum):
    """How an agent tried to reach the customer: the seed's two channels, mail and phone."""

    EMAIL = "email"
    PHONE = "phone"


class ContactOutcome(StrEnum):
    """What a contact attempt achieved.

    A mail can only be `sent`; a call is `reached`, `no_answer` or `voicemail`. A sent mail or
    a call that reached the customer is the initial response the SLA measures; an unanswered
    call or a voicemail leaves the SLA clock running.
    """

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    SENT = "sent"


class RemoteAccessKind(StrEnum):
    """What the customer is asked to allow: `view` (see the screen) or `control` (also use
    mouse and keyboard).

    The customer reads it in the request and consents to exactly this kind, so it cannot be
    widened after they decide: asking for more means a new request.
    """

    VIEW = "view"
    CONTROL = "control"


class ResolutionMethod(StrEnum):
    """How a case was solved, per the seed: phone assistance and/or remote control of the
    affected machine.

    A method is accepted only if it took place on the case: `phone` needs a call that reached
    the customer, `remote` a remote session that ended.
    """

    PHONE = "phone"
    REMOTE = "remote"


class AuthorizationStatus(StrEnum):
    """Where a remote-access request stands.

    Only a `pending` request can be authorized or rejected, and only a `granted` one can be
    revoked or used to start a session. `rejected`, `expired` (unanswered in time, or access
    that ran out), `revoked` and `superseded` (a newer request, a resolution or a
    cancellation replaced it) are final, so an old link can never grant access again.
    """

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
    """The initial-response SLA of a case: its commitment and how it stands.

    `responded_at` is the first contact that reached the customer; `warned_at` and
    `breached_at` are when the workflow's deadlines fired. A change of severity or plan
    replaces the commitment, but a response already given or a breach already recorded stays.
    """

    commitment: Commitment
    state: SlaState
    responded_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None


class ContactAttempt(Model):
    """One try to reach the customer, as the agent logged it.

    The first attempt that reached the customer is the case's initial response (it stops the
    SLA clock); a phone call that reached them also allows resolving the case by phone.
    """

    attempt_id: str
    channel: ContactChannel
    outcome: ContactOutcome
    agent: str
    note: str | None = None
    at: datetime

    @property
    def reached_customer(self) -> bool:
        """True for a sent mail or an answered call; no answer or a voicemail is no response."""
        return self.outcome in (ContactOutcome.REACHED, ContactOutcome.SENT)


class Consent(Model):
    """The customer's decision on remote access, kept as evidence that it was theirs.

    The seed allows remote access only "previa solicitud y autorización por parte del
    usuario". Each decision records when it was made, from which address and browser, and
    the exact text the customer was shown, so the case can prove what they agreed to (or
    refused, or withdrew).
    """

    decision: Literal["authorized", "rejected", "revoked"]
    at: datetime
    ip: str | None
    user_agent: str | None
    text_shown: str


class RemoteAuthorization(Model):
    """One request for remote access to the customer's machine, and the customer's answers.

    A session may start only under a `granted` authorization before `access_until`; the
    customer must answer before `expires_at`. A new request supersedes an open one, so at most
    one authorization per case is ever pending or granted.
    """

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
    """A remote connection made under a granted authorization.

    It never outlives that authorization: `expires_at` is the authorization's `access_until`,
    and a revocation or the end of access ends the session. A session that ended, whatever
    its `outcome`, is what allows resolving the case by the `remote` method.
    """

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
    """How and by whom the case was solved. A case reopened and solved again keeps every
    resolution, so the list is its history.
    """

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
        """The latest request: the only one that can still be pending or granted."""
        return self.authorizations[-1] if self.authorizations else None

    @property
    def active_session(self) -> RemoteSession | None:
        """The session still running, if any; while one runs the case cannot be resolved,
        cancelled or asked for new access.
        """
        if self.sessions and self.sessions[-1].ended_at is None:
            return self.sessions[-1]
        return None

    @property
    def customer_reached(self) -> bool:
        """Whether any contact counted as reaching the customer (the seed's contacto happened)."""
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
    """What every action on a case carries: who acts, and an optional key to retry safely.

    `actor` is the authenticated identity, set by the API rather than chosen by the client.
    Sending the same `request_id` again with the same body returns the first answer instead
    of applying the action twice (a lost response is safe to retry); reusing it with a
    different body is refused.
    """

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
    """Record a try to reach the customer by mail or phone (the seed's contacto step).

    The first contact moves a case out of registro. The first one that reaches the customer
    is the initial response the SLA measures; a call that reaches them, with no remote
    session running, moves the case to resolucion_telefonica.
    """

    channel: ContactChannel
    outcome: ContactOutcome
    note: Note | None = None

    @model_validator(mode="after")
    def _outcome_fits_channel(self) -> LogContact:
        check_outcome(self.channel, self.outcome)
        return self


class RequestRemoteAccess(ActionInput):
    """Ask the customer for permission to access their machine remotely.

    The seed requires the user's authorization first: the customer gets a mail with a link to
    decide, and the case waits in autorizacion_remota until they answer or the request expires.
    An earlier request still pending or granted is superseded.
    """

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
    """Record how the running remote session ended. Any ended session, whatever its outcome,
    allows resolving the case by the `remote` method.
    """

    outcome: Literal["completed", "incomplete", "failed"]
    summary: Reason


class Resolve(ActionInput):
    """Mark the case solved, by the methods that actually took place on it.

    Refused for a method that did not happen (phone needs a call that reached the customer,
    remote an ended session). The customer is mailed the resolution and may have it reopened
    within the reopen window; after that window the case closes by itself.
    """

    methods: list[ResolutionMethod] = Field(min_length=1)
    summary: Reason


class Close(ActionInput):
    """Closes a resolved case before its reopen window ends."""


class Reopen(ActionInput):
    """Reopen a resolved case within its reopen window, when the problem turns out not to be
    solved. The case returns to contacto; its initial-response SLA is not measured again.
    """

    reason: Reason


class Cancel(ActionInput):
    """Cancel a case that will not be worked. Final: a cancelled case cannot be reopened, and
    any pending or granted remote access is withdrawn so its link stops working.
    """

    reason: Reason


class ChangeSeverity(ActionInput):
    """Reclassify the case as severity A, B or C once its impact is better understood.

    The initial-response commitment is recomputed from the registration instant under the
    policy the case was opened with, so a later severity cannot restart the clock; a response
    already given or a breach already recorded stays as it was.
    """

    severity: Severity
    reason: Reason


class ChangePlan(ActionInput):
    """Correct the customer's plan (free, basico, estandar or premium).

    As with a severity change, the commitment is recomputed from the registration instant
    under the case's pinned policy, and a response or breach already recorded stays.
    """

    plan: Plan
    reason: Reason
