"""What the case workflow tells Prometheus about the service it gives.

Recorded through `workflow.metric_meter()`, whose instruments record nothing while a
workflow replays its history: a worker that picks a case up again (after a restart, or
once the case left its cache) does not count its registration or its breach twice.
Recording adds no command to the history. The worker serves these on the Temporal
SDK's Prometheus endpoint (WORKER_METRICS_PORT) beside the SDK's own metrics, each
series with the SDK's `namespace`, `task_queue` and `workflow_type` labels as well.

Passed through the sandbox (see workflows/case.py): pure functions of the state, plus
the meter.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from workflows.deadlines import DEADLINES, pending
from workflows.effects import Effects, EventType
from workflows.models import CaseState

CASES_OPENED = "amger_cases_opened"
FIRST_RESPONSES = "amger_first_responses"
DEADLINE_LATENESS = "amger_deadline_lateness_seconds"
# 5 s is a bucket boundary so that an alert can count the deadlines later than that.
HISTOGRAM_BUCKETS = {
    DEADLINE_LATENESS: [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0]
}


def _cell(state: CaseState) -> dict[str, str]:
    return {"plan": state.plan.value, "severity": state.severity.value}


def changed(state: CaseState, fx: Effects) -> None:
    """Counts what a change did: a case opened, a first response met or breached (by the
    case's plan and severity as they are then)."""
    meter = workflow.metric_meter()
    for event in fx.events:
        if event.type is EventType.CASE_REGISTERED:
            meter.create_counter(CASES_OPENED, "Cases registered").add(1, _cell(state))
            continue
        if event.type is EventType.SLA_BREACHED:
            outcome = "breached"
        elif event.type is EventType.FIRST_RESPONSE:
            outcome = str(event.data.get("sla_state"))
            # A late first response breaches by itself only when the breach deadline has
            # not fired first (the worker was away at that instant): counted once.
            if outcome == "breached" and state.sla.breached_at is not None:
                continue
        else:
            continue
        if outcome in ("met", "breached"):
            counter = meter.create_counter(
                FIRST_RESPONSES, "First-response commitments kept (met) or not (breached)"
            )
            counter.add(1, _cell(state) | {"outcome": outcome})


def deadlines_due(state: CaseState, now: datetime) -> None:
    """How late each deadline due at `now` fires: seconds from its instant to `now`, by
    deadline name. Call it just before `fire_due(state, now)`; it walks the table the
    same way, on a copy, because a deadline that fires can change the next one's
    instant."""
    due = pending(state)
    if not due or due[0][0] > now:
        return
    lateness = workflow.metric_meter().create_histogram_float(
        DEADLINE_LATENESS, "Seconds from a deadline's instant to its firing", "s"
    )
    walked = state.model_copy(deep=True)
    for deadline in DEADLINES:
        if walked.stage.is_terminal:
            break
        at = deadline.due(walked)
        if at is not None and now >= at:
            lateness.record((now - at).total_seconds(), {"deadline": deadline.name})
            deadline.fire(walked, now, Effects())
