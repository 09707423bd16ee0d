"""What an intake needs besides the HTTP route: the workflow's input from the body, and
which case an Idempotency-Key stands for.

The route then only translates: parse, find or allocate the case id, start the case,
answer.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from api.errors import ActionRefused
from api.principals import ApiPrincipal
from api.schemas import CaseCreate
from core.settings import Settings
from core.store import CaseStore
from workflows.messages import CaseInput
from workflows.models import CaseTimings, SeverityAssignment
from workflows.severity import classify
from workflows.sla import SlaPolicy


def severity_of(body: CaseCreate) -> SeverityAssignment:
    """The intake agent's grade, or the seed's impact rules applied to what they saw."""
    if body.impact is None:
        assert body.severity is not None
        assert body.severity_reason is not None
        return SeverityAssignment(severity=body.severity, reason=body.severity_reason)
    decision = classify(body.impact)
    return SeverityAssignment(
        severity=decision.severity,
        reason=decision.explanation,
        rule=decision.rule,
        impact=body.impact,
    )


def timings(settings: Settings) -> CaseTimings:
    """Durations from settings, pinned on the case when it opens."""
    return CaseTimings(
        authorization_ttl_seconds=settings.remote_authorization_ttl.total_seconds(),
        session_ttl_seconds=settings.remote_session_ttl.total_seconds(),
        reopen_window_seconds=settings.reopen_window.total_seconds(),
        message_budget_seconds=settings.message_budget_hours * 3600,
    )


def case_input(
    body: CaseCreate,
    case_id: str,
    principal: ApiPrincipal,
    policy: SlaPolicy,
    settings: Settings,
) -> CaseInput:
    """The workflow's input: the body, plus what the API decides and the client never does.

    The case id, the registering key's name as `opened_by`, the instant, the active policy
    (pinned on the case for its whole life) and the durations from settings.
    """
    return CaseInput(
        case_id=case_id,
        customer=body.customer,
        plan=body.plan,
        severity=severity_of(body),
        summary=body.summary,
        description=body.description,
        affected_services=body.affected_services,
        registered_at=datetime.now(UTC),
        opened_by=principal.name,
        policy=policy,
        timings=timings(settings),
    )


async def case_id_for(
    store: CaseStore, settings: Settings, principal: ApiPrincipal, key: str | None, body: CaseCreate
) -> tuple[str, bool]:
    """(case id, whether the key already stood for it). A key is the sending API key's
    own and expires; a number is allocated only for a request not seen before."""
    if key is None:
        return await store.next_case_id(), False
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    ttl = settings.idempotency_key_ttl
    held = await store.intake_claim(principal=principal.name, key=key, ttl=ttl)
    seen = held is not None
    if held is None:
        new_id = await store.next_case_id()
        held = await store.claim_intake(
            principal=principal.name, key=key, case_id=new_id, body_sha256=digest, ttl=ttl
        )
    if held[1] != digest:
        raise ActionRefused("Idempotency-Key was already used for a different case", None, [])
    return held[0], seen
