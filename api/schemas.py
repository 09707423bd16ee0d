"""Request and response bodies of the HTTP API.

Request models forbid unknown fields so a typo is a 422 naming it, not a silent no-op.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

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


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The acting agent is the authenticated principal; when a client also names one,
    # it must be the same (checked by the router).
    agent: Name | None = None
    request_id: RequestId | None = None


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: Customer
    plan: Plan
    severity: Severity | None = None
    severity_reason: Reason | None = None
    impact: ImpactAssessment | None = None
    summary: Summary
    description: Description | None = None
    affected_services: list[Identifier] = Field(
        default_factory=list, max_length=MAX_AFFECTED_SERVICES
    )

    @model_validator(mode="after")
    def _one_way_to_grade(self) -> CaseCreate:
        if (self.severity is None) == (self.impact is None):
            raise ValueError("give either severity (with severity_reason) or impact")
        if self.severity is not None and not self.severity_reason:
            raise ValueError("severity_reason is required when severity is given")
        return self


class ContactIn(Body):
    channel: ContactChannel
    outcome: ContactOutcome
    note: Note | None = None

    @model_validator(mode="after")
    def _outcome_fits_channel(self) -> ContactIn:
        check_outcome(self.channel, self.outcome)
        return self


class ResolveIn(Body):
    methods: list[ResolutionMethod] = Field(min_length=1)
    summary: Reason


class ReasonIn(Body):
    reason: Reason


class CloseIn(Body):
    """An action that needs nothing but who acts (close, start a remote session)."""


class SeverityIn(Body):
    severity: Severity
    reason: Reason


class PlanIn(Body):
    plan: Plan
    reason: Reason


class RemoteRequestIn(Body):
    reason: Reason
    access: RemoteAccessKind


class SessionEndIn(Body):
    outcome: Literal["completed", "incomplete", "failed"]
    summary: Reason


class SlaOut(BaseModel):
    state: SlaState
    policy_version: str
    availability: Availability
    target: str | None
    committed: bool
    attention_from: datetime
    response_due: datetime | None
    warning_at: datetime | None
    responded_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None


class CaseOut(BaseModel):
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
    policy_version: str
    plan: Plan
    severity: Severity
    availability: Availability
    target: str | None
    committed: bool
    registered_at: datetime
    response_due: datetime | None
    warning_at: datetime | None
    attention_from: datetime


class ErrorOut(BaseModel):
    detail: str


# --- Reports and case history. Every instant they give is UTC, written with `Z`. ---


def _in_utc(value: datetime) -> datetime:
    # One convention, whatever zone the value was recorded in (the SLA's are in the
    # policy's, PostgreSQL's in the session's), so clients can also compare them as text.
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


class SlaFigures(BaseModel):
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
    policy_version: str = Field(description="the version the cases were opened under")
    plan: Plan
    severity: Severity
    availability: Availability | None
    target: str | None


class SlaReportOut(BaseModel):
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
    before: HistorySide
    after: HistorySide


class HistoryEntry(BaseModel):
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
    case_id: str
    temporal_ui_url: str
    entries: list[HistoryEntry]
