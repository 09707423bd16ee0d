"""SLA timers of the case workflow, on the time-skipping test server."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.builders import EMAIL_SENT, REACHED, workflow_case
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity, SlaState, Stage
from workflows.models import (
    ChangePlan,
    ChangeSeverity,
    Close,
)
from workflows.search_attributes import CASE_QUEUE
from workflows.sla import evaluate, load_policy


async def test_severity_a_breaches_after_one_hour_without_contact(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.PREMIUM, Severity.A) as case:
        await skipping_env.sleep(timedelta(minutes=44))
        state = await case.state()
        assert state.sla.state is SlaState.PENDING
        assert state.sla.warned_at is None
        await skipping_env.sleep(timedelta(minutes=2))  # past 45 min = 75 % of 1 h
        state = await case.state()
        assert state.sla.warned_at is not None
        assert state.sla.state is SlaState.PENDING
        await skipping_env.sleep(timedelta(minutes=15))
        state = await case.state()
    assert state.sla.state is SlaState.BREACHED
    assert state.sla.breached_at is not None
    assert state.sla.breached_at - case.registered_at >= timedelta(hours=1)
    assert state.sla.breached_at - case.registered_at < timedelta(hours=1, minutes=1)
    assert case.rec.event_types.index("sla_warning") < case.rec.event_types.index("sla_breached")
    assert [(n.audience, n.kind) for n in case.rec.team if n.kind.startswith("sla")] == [
        ("agents", "sla_warning"),
        ("supervisors", "sla_breached"),
    ]


async def test_reaching_contact_meets_the_one_hour_target(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.FREE, Severity.A) as case:
        await skipping_env.sleep(timedelta(minutes=30))
        state = await case.update(CaseWorkflow.log_contact, REACHED)
        assert state.sla.state is SlaState.MET
        assert state.stage is Stage.RESOLUCION_TELEFONICA
        await skipping_env.sleep(timedelta(hours=2))
        state = await case.state()
    assert state.sla.state is SlaState.MET
    assert state.sla.responded_at is not None
    assert "sla_breached" not in case.rec.event_types
    assert "sla_warning" not in case.rec.event_types


async def test_an_action_the_stage_forbids_is_rejected_before_history(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.ESTANDAR, Severity.B) as case:
        cause = await case.refused(
            case.handle.execute_update(CaseWorkflow.close, Close(actor="ana"))
        )
        state = await case.state()
        history = await case.handle.fetch_history()
    assert "registro" in cause.message
    assert state.stage is Stage.REGISTRO
    accepted = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 1  # only the registration update, not the refused close


# --- Every committed cell of the seed's matrix, and reclassification ---

POLICY = load_policy()
COMMITTED = [
    (plan, sev) for plan in Plan for sev in Severity if POLICY.cell(plan, sev).target is not None
]
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("plan", "severity"), COMMITTED, ids=[f"{p.value}-{s.value}" for p, s in COMMITTED]
)
async def test_warning_then_breach_without_contact(
    skipping_env: WorkflowEnvironment, task_queue: str, plan: Plan, severity: Severity
) -> None:
    async with workflow_case(skipping_env, task_queue, plan, severity) as case:
        c = evaluate(POLICY, plan, severity, case.registered_at)
        assert c.warning_at is not None
        assert c.response_due is not None
        await case.sleep_until(c.warning_at - SECOND)
        before = await case.state()
        await case.sleep_until(c.warning_at + SECOND)
        warned = await case.state()
        await case.sleep_until(c.response_due - SECOND)
        not_yet = await case.state()
        await case.sleep_until(c.response_due + SECOND)
        after = await case.state()
    assert before.sla.warned_at is None
    assert warned.sla.warned_at is not None
    assert c.warning_at <= warned.sla.warned_at <= c.warning_at + SECOND
    assert not_yet.sla.state is SlaState.PENDING
    assert after.sla.state is SlaState.BREACHED
    assert after.sla.breached_at is not None
    assert c.response_due <= after.sla.breached_at <= c.response_due + SECOND
    assert [n.kind for n in case.rec.team if n.kind.startswith("sla")] == [
        "sla_warning",
        "sla_breached",
    ]


@pytest.mark.parametrize("contact_after", [0.5, 0.9], ids=["before-warning", "after-warning"])
async def test_contact_meets_the_target(
    skipping_env: WorkflowEnvironment, task_queue: str, contact_after: float
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.ESTANDAR, Severity.C) as case:
        await skipping_env.sleep(timedelta(hours=4) * contact_after)
        await case.handle.execute_update(CaseWorkflow.log_contact, EMAIL_SENT)
        await skipping_env.sleep(timedelta(hours=5))
        state = await case.state()
    assert state.sla.state is SlaState.MET
    assert "sla_breached" not in case.rec.event_types
    assert ("sla_warning" in case.rec.event_types) == (contact_after > 0.75)


async def test_reclassification_up_shortens_the_deadline(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.ESTANDAR, Severity.B) as case:
        now = case.registered_at
        await skipping_env.sleep(timedelta(minutes=30))
        state = await case.update(
            CaseWorkflow.change_severity,
            ChangeSeverity(actor="sofia", severity=Severity.A, reason="afecta a toda la oficina"),
        )
        assert state.sla.commitment.response_due == now + timedelta(hours=1)
        await case.sleep_until(now + timedelta(hours=1, seconds=1))
        state = await case.state()
    assert state.sla.state is SlaState.BREACHED
    changed = next(e for e in case.rec.events if e.type == "severity_changed")
    assert changed.data["old_commitment"]["target"] == "2h"
    assert changed.data["new_commitment"]["target"] == "1h"


async def test_reclassification_down_lengthens_the_deadline(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.PREMIUM, Severity.A) as case:
        now = case.registered_at
        await skipping_env.sleep(timedelta(minutes=20))
        await case.handle.execute_update(
            CaseWorkflow.change_severity,
            ChangeSeverity(
                actor="sofia", severity=Severity.C, reason="solo un usuario, hay alternativa"
            ),
        )
        await case.sleep_until(now + timedelta(hours=3, minutes=59))
        mid = await case.state()
        await case.sleep_until(now + timedelta(hours=4, seconds=1))
        end = await case.state()
    assert mid.sla.state is SlaState.PENDING
    assert end.sla.state is SlaState.BREACHED


async def test_reclassification_to_a_past_deadline_breaches_at_once(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.ESTANDAR, Severity.B) as case:
        await skipping_env.sleep(timedelta(minutes=90))
        await case.handle.execute_update(
            CaseWorkflow.change_severity,
            ChangeSeverity(actor="sofia", severity=Severity.A, reason="crítico"),
        )
        # Let the breach's activities finish before the worker stops; "at once" = <1 s.
        state = await case.settled()
    assert state.sla.state is SlaState.BREACHED
    assert state.sla.breached_at is not None
    assert state.sla.breached_at - case.registered_at <= timedelta(minutes=90) + SECOND


async def test_a_met_response_stays_met_after_reclassification(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.ESTANDAR, Severity.C) as case:
        await skipping_env.sleep(timedelta(hours=2))
        await case.handle.execute_update(CaseWorkflow.log_contact, REACHED)
        state = await case.update(
            CaseWorkflow.change_severity,
            ChangeSeverity(actor="sofia", severity=Severity.A, reason="era crítico"),
        )
        await skipping_env.sleep(timedelta(hours=3))
        state = await case.state()
    assert state.sla.state is SlaState.MET
    assert state.sla.commitment.target == "1h"


async def test_plan_change_creates_a_commitment(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, Plan.BASICO, Severity.C) as case:
        first = await case.state()
        state = await case.update(
            CaseWorkflow.change_plan,
            ChangePlan(actor="sofia", plan=Plan.PREMIUM, reason="contrató premium"),
        )
        assert state.sla.state is SlaState.PENDING
        await case.sleep_until(case.registered_at + timedelta(hours=4, seconds=1))
        state = await case.state()
    assert first.sla.state is SlaState.NOT_COMMITTED
    assert state.plan is Plan.PREMIUM
    assert state.sla.state is SlaState.BREACHED
    assert "plan_changed" in case.rec.event_types


async def test_business_hours_case_enters_the_queue_on_monday_morning(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    madrid = ZoneInfo("Europe/Madrid")
    now = (await skipping_env.get_current_time()).astimezone(madrid)
    friday = now.date() + timedelta(days=(4 - now.weekday()) % 7 or 7)
    friday_evening = datetime.combine(friday, time(19, 0), madrid)
    monday_nine = datetime.combine(friday + timedelta(days=3), time(9, 0), madrid)
    if any(h.date == monday_nine.date() for h in POLICY.holidays):
        pytest.skip("the Monday after is a holiday this week")  # the calendar tests cover it
    await skipping_env.sleep(friday_evening - now)
    async with workflow_case(skipping_env, task_queue, Plan.FREE, Severity.B) as case:
        await case.sleep_until(monday_nine - SECOND)
        waiting = await case.state()
        await case.sleep_until(monday_nine + SECOND)
        queued = await case.state()
        history = await case.handle.fetch_history()
    assert waiting.queued_at is None
    assert waiting.sla.state is SlaState.NOT_COMMITTED
    assert queued.queued_at is not None
    assert monday_nine <= queued.queued_at <= monday_nine + SECOND
    # Other upserts (the version marker's TemporalChangeVersion) do not carry CaseQueue.
    queue_values = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields[
            CASE_QUEUE.name
        ].data
        for e in history.events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
        and CASE_QUEUE.name
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    ]
    assert queue_values[0] == b'"waiting"'
    assert queue_values[-1] == b'"agents"'
    assert [n.kind for n in case.rec.team] == ["case_queued"]
