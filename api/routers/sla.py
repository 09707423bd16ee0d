"""/sla: the active policy and what it commits to, without opening a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PolicyDep, Reader
from api.errors import BadRequest
from api.responses import KEYED, READ, errors
from api.schemas import EvaluateOut, Rfc3339
from workflows.domain import Plan, Severity
from workflows.sla import SlaPolicy, evaluate

router = APIRouter(prefix="/sla", tags=["sla"])


@router.get("/matrix", response_model=SlaPolicy, responses=errors(*KEYED))
async def matrix(policy: PolicyDep, _: Reader) -> SlaPolicy:
    """The active SLA policy: targets by plan and severity, business hours and holidays.

    It governs cases opened from now on; a case keeps the version it was opened under.
    """
    return policy


@router.get("/evaluate", response_model=EvaluateOut, responses=errors(*READ))
async def evaluate_commitment(
    policy: PolicyDep,
    _: Reader,
    plan: Plan,
    severity: Severity,
    registered_at: Annotated[Rfc3339, Query(description="RFC 3339, with its offset")],
) -> EvaluateOut:
    """What a case of this plan and severity would be promised, without opening one.

    The contact center can tell a customer when to expect an answer. `registered_at` needs
    its offset (else 422): business hours are local to the policy's `timezone`.
    """
    if registered_at.tzinfo is None:
        raise BadRequest(
            "registered_at needs a UTC offset (e.g. 2026-11-25T10:00:00+01:00)",
            errors=[{"field": "query.registered_at", "message": "missing UTC offset"}],
        )
    c = evaluate(policy, plan, severity, registered_at)
    return EvaluateOut(
        policy_version=c.policy_version,
        plan=plan,
        severity=severity,
        availability=c.availability,
        target=c.target,
        committed=c.committed,
        registered_at=registered_at,
        response_due=c.response_due,
        warning_at=c.warning_at,
        attention_from=c.attention_from,
    )
