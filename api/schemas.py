"""Request and response bodies of the HTTP API.

Request models forbid unknown fields so a typo is a 422 naming it, not a silent no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
