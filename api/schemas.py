"""Request and response bodies of the HTTP API.

Request models forbid unknown fields so a typo is a 422 naming it, not a silent no-op.

Every instant in an answer is UTC, written with `Z` (RFC 3339): clients store, compare
and sort instants, and one offset spares them Madrid's +01:00/+02:00 switch; the policy's
`timezone` says how to show them. The conversion happens here, in the output models, so
the workflows keep recording what their histories replay.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from api.openapi import one_way_to_grade, outcomes_by_channel, text_rules
from core.store import CaseSummary, StoredEvent, StoredNotification
from workflows.domain import Availability, Plan, Severity, SlaState, Stage
from workflows.models import (
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    Customer,
    RemoteAccessKind,
    RemoteAuthorization,
    RemoteSession,
    Resolution,
    ResolutionMethod,
    SeverityAssignment,
    check_outcome,
)
from workflows.severity import ImpactAssessment
from workflows.text import (
    MAX_AFFECTED_SERVICES,
    Description,
    Identifier,
    Name,
    Note,
    Reason,
    RequestId,
    Summary,
)


def _in_utc(value: datetime) -> datetime:
    # One convention, whatever zone the value was recorded in (the SLA's are in the
    # policy's, PostgreSQL's in the session's), so clients can also compare them as text.
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


# RFC 3339 (`format: date-time`), as the document says: not a date alone, nor a number
# of seconds, which pydantic would take. Without an offset it reaches the route, which
# says that the offset is missing.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?")


def _rfc3339(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time, e.g. 2026-11-25T10:00:00+01:00")
    return value


Rfc3339 = Annotated[datetime, BeforeValidator(_rfc3339)]


def instants_in_utc(value: Any) -> Any:
    """`value` with every datetime in it (through dicts and lists) moved to UTC."""
    if isinstance(value, datetime):
        return _in_utc(value)
    if isinstance(value, dict):
        return {k: instants_in_utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [instants_in_utc(v) for v in value]
    return value


class InUtc(BaseModel):
    """An answer whose instants, wherever they were recorded, are given in UTC."""

    @model_validator(mode="before")
    @classmethod
    def _instants_in_utc(cls, data: Any) -> Any:
        return instants_in_utc(data)


class Body(BaseModel):
    """What every action's body may carry besides its own fields.

    The actor is always the key's owner: `agent` may only repeat the caller's name (any other
    is 403). A `request_id` makes a retry safe: sent again with the same body, the action is
    answered with the case but not applied twice; with another body it is 409.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=text_rules)
    # The acting agent is the authenticated principal; when a client also names one,
    # it must be the same (checked by the router).
    agent: Name | None = None
    request_id: RequestId | None = None


class CustomerIn(Customer):
    """The customer as the contact center gives it (the same fields and checks)."""

    model_config = ConfigDict(json_schema_extra=text_rules)


class ImpactIn(ImpactAssessment):
    """What the contact center saw, for the seed's rules: true and false only, as the
    document says (not 0, 1 or "yes")."""

    model_config = ConfigDict(strict=True)


class CaseCreate(BaseModel):
    """Either `severity` with `severity_reason` (the contact center grades the case) or
    `impact` (the seed's rules grade it), never both and never neither."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=one_way_to_grade)
    customer: CustomerIn
    plan: Plan
    severity: Severity | None = None
    severity_reason: Reason | None = None
    impact: ImpactIn | None = None
    summary: Summary
    description: Description | None = None
    affected_services: list[Identifier] = Field(
        default_factory=list, max_length=MAX_AFFECTED_SERVICES
    )

    @model_validator(mode="after")
    def _one_way_to_grade(self) -> CaseCreate:
        # Exactly the document's two shapes (the other way's fields absent or null).
        if self.impact is not None:
            if self.severity is not None or self.severity_reason is not None:
                raise ValueError("give either severity (with severity_reason) or impact")
        elif self.severity is None or self.severity_reason is None:
            raise ValueError("give either severity (with severity_reason) or impact")
        return self


class ContactIn(Body):
    """Phone: `reached`, `no_answer` or `voicemail`; email: `sent` (the document's
    `oneOf` on `channel`)."""

    model_config = ConfigDict(json_schema_extra=outcomes_by_channel)
    channel: ContactChannel
    outcome: ContactOutcome
    note: Note | None = None

    @model_validator(mode="after")
    def _outcome_fits_channel(self) -> ContactIn:
        check_outcome(self.channel, self.outcome)
        return self


class ResolveIn(Body):
    """How the case was solved: `summary` is the solution the customer reads in the mail.

    Only methods that took place are accepted (else 409): `phone` needs a call that reached
    the customer, `remote` a remote session that ended.
    """

    methods: list[ResolutionMethod] = Field(min_length=1)
    summary: Reason


class ReasonIn(Body):
    """Reopening and cancelling need a reason, which stays in the case's history."""

    reason: Reason


class CloseIn(Body):
    """An action that needs nothing but who acts (close, start a remote session)."""


class SeverityIn(Body):
    """A reclassification: the response deadline is recomputed from the registration instant.

    So a new severity cannot restart the clock; a response or a breach already recorded stays.
    """

    severity: Severity
    reason: Reason


class PlanIn(Body):
    """A plan correction, by a supervisor only; the deadline is recomputed as for severity.

    The commitment counts from the registration instant under the policy version the case was
    opened with; a response or a breach already recorded stays.
    """

    plan: Plan
    reason: Reason


class RemoteRequestIn(Body):
    """Asks the customer's consent: `reason` and `access` are what their mail and page show.

    Only the customer can answer, from the mailed link; the case waits in autorizacion_remota
    until they do or the request expires. A newer request supersedes an earlier one.
    """

    reason: Reason
    access: RemoteAccessKind


class SessionEndIn(Body):
    """The agent's report on the session; whatever the outcome, the session took place.

    So any ended session makes `remote` a method the case can be resolved by.
    """

    outcome: Literal["completed", "incomplete", "failed"]
    summary: Reason


class SlaOut(BaseModel):
    """The first-response commitment and where it stands.

    `policy_version` is the policy the case was opened under: a later policy never moves its
    deadline. `attention_from` is when the clock starts: registration for 24/7 cells, the next
    business instant for business-hours ones.
    """

    state: SlaState
    policy_version: str
    availability: Availability
    target: str | None
    committed: bool
    attention_from: UtcDatetime
    response_due: UtcDatetime | None
    warning_at: UtcDatetime | None
    responded_at: UtcDatetime | None
    warned_at: UtcDatetime | None
    breached_at: UtcDatetime | None


class CaseOut(InUtc):
    """The whole case, as the caller's role may see it.

    `allowed_actions` lists what the caller may send now: anything else is 409 (the stage
    refuses it) or 403 (the role may not). A contact center reads the customer's consent
    records without their IP address and browser.
    """

    case_id: str
    stage: Stage
    plan: Plan
    severity: Severity
    severity_assignment: SeverityAssignment
    customer: Customer
    summary: str
    description: str | None
    affected_services: list[str]
    registered_at: datetime
    opened_by: str
    queued_at: datetime | None
    sla: SlaOut
    contacts: list[ContactAttempt]
    authorizations: list[RemoteAuthorization]
    sessions: list[RemoteSession]
    resolutions: list[Resolution]
    resolved_at: datetime | None
    reopen_until: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    allowed_actions: list[str]
    revision: int
    temporal_ui_url: str
    source: Literal["workflow", "postgresql"] = Field(
        description="workflow: the case as it is now; postgresql: the read model, which "
        "may lag behind (Temporal could not answer)"
    )


class EvaluateOut(BaseModel):
    """What the active policy commits to for a case registered at `registered_at`.

    The same computation an intake makes, without opening a case.
    """

    policy_version: str
    plan: Plan
    severity: Severity
    availability: Availability
    target: str | None
    committed: bool
    registered_at: UtcDatetime
    response_due: UtcDatetime | None
    warning_at: UtcDatetime | None
    attention_from: UtcDatetime


class IntakeAccepted(BaseModel):
    """An intake no worker registered in time: the case is started and will be."""

    case_id: str
    stage: Literal["registro"]
    detail: str


class FieldError(BaseModel):
    """One input to fix: a 422's invalid field, or a 400's unreadable body."""

    field: str = Field(description="where, as `body.customer.email` or `query.to`")
    message: str = Field(description="what is wrong with it")


class ErrorOut(BaseModel):
    """Every error the API answers in JSON (`api.errors`): a sentence, and with some
    statuses what helps to act on it."""

    detail: str = Field(description="what went wrong, in a sentence")
    errors: list[FieldError] | None = Field(default=None, description="422: each bad field")
    case_id: str | None = Field(default=None, description="404: the case that is unknown")
    stage: Stage | None = Field(default=None, description="409: the stage the case is in")
    allowed_actions: list[str] | None = Field(
        default=None, description="409: the actions the case allows now"
    )


# --- Reports and case history. ---


class SlaFigures(BaseModel):
    """First-response figures of a set of cases.

    Every case opened is in exactly one of `met`, `breached`, `pending` and `not_committed`.
    """

    opened: int = Field(description="cases registered in the period")
    committed: int = Field(description="cases with a first-response commitment")
    met: int
    breached: int
    pending: int = Field(description="committed, not answered yet, deadline not reached")
    not_committed: int
    responded: int = Field(description="cases with a first response: the times' sample")
    first_response_median_seconds: float | None = Field(
        description="from registration; business time in business_hours cells"
    )
    first_response_p90_seconds: float | None = Field(
        description="90th percentile, linear interpolation between closest ranks"
    )


class SlaReportCell(SlaFigures):
    """One plan × severity cell of one policy version, with the target that version set."""

    policy_version: str = Field(description="the version the cases were opened under")
    plan: Plan
    severity: Severity
    availability: Availability | None
    target: str | None


class SlaReportOut(BaseModel):
    """First-response compliance of the cases registered in [`from`, `to`).

    Cells are kept apart by the policy version each case was opened under, so a new policy
    never re-grades cases it did not govern.
    """

    # `from` is a Python keyword: the field is `from_`, named `from` in JSON.
    model_config = ConfigDict(populate_by_name=True)
    from_: UtcDatetime = Field(alias="from")
    to: UtcDatetime
    timezone: str = Field(description="the zone of the business hours")
    active_policy_version: str
    policy_versions: list[str] = Field(description="versions of the cases counted")
    cells: list[SlaReportCell]
    totals: SlaFigures


class CommitmentOut(BaseModel):
    """A first-response commitment before or after a reclassification changed it."""

    policy_version: str
    availability: Availability
    target: str | None
    committed: bool
    attention_from: UtcDatetime
    response_due: UtcDatetime | None
    warning_at: UtcDatetime | None


class HistorySide(BaseModel):
    """One side of a change: only what the change touched is set."""

    stage: Stage | None = None
    plan: Plan | None = None
    severity: Severity | None = None
    commitment: CommitmentOut | None = None


class HistoryChange(BaseModel):
    """Stage, plan or severity before and after; a reclassification adds both commitments."""

    before: HistorySide
    after: HistorySide


class HistoryEntry(BaseModel):
    """One step of the audit trail; `data` keeps what `summary` leaves out."""

    seq: int = Field(description="the entry's place in the case's log")
    revision: int = Field(description="the case revision the change produced")
    at: UtcDatetime
    actor: str = Field(description="who: a user, `sistema`, or `cliente:<customer id>`")
    type: str
    label: str = Field(description="the type, in Spanish")
    summary: str = Field(description="what happened, in Spanish")
    change: HistoryChange | None = Field(description="before and after, for changes")
    data: dict[str, Any] = Field(description="the event as recorded, instants in UTC")


class HistoryOut(BaseModel):
    """A case's audit trail, with the Temporal UI link to the workflow's own history."""

    case_id: str
    temporal_ui_url: str
    entries: list[HistoryEntry]


class CaseSummaryOut(CaseSummary, InUtc):
    """A row of the case list."""


class EventOut(StoredEvent, InUtc):
    """An event of the case's log; `data` as the workflow recorded it."""


class NotificationOut(StoredNotification, InUtc):
    """A notice sent to the agents or the supervisors."""


class HealthOut(BaseModel):
    """The process answers; PostgreSQL and Temporal are /readyz's business."""

    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Readiness: PostgreSQL and Temporal decide it; the read model and the worker are
    reported (given when Temporal answers), not failing it."""

    status: Literal["ready", "unavailable"]
    postgresql: Literal["ok", "unreachable"]
    temporal: Literal["ok", "unreachable"]
    projection: Literal["current", "lagging", "unknown"] | None = None
    cases_behind: int | None = Field(default=None, description="open cases whose read model lags")
    worker: Literal["polling", "absent", "unknown"] | None = None
    worker_pollers: int | None = None
