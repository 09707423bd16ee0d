"""SLA timers of the case workflow, on the time-skipping test server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.builders import Recorder, case_input, start
from workflows.case import ACTION_NOT_ALLOWED, CaseWorkflow
from workflows.domain import Plan, Severity, SlaState, Stage
from workflows.models import Close, ContactChannel, ContactOutcome, LogContact

PHONE_REACHED = LogContact(actor="ana", channel=ContactChannel.PHONE,
                           outcome=ContactOutcome.REACHED)


async def test_severity_a_breaches_after_one_hour_without_contact(
        skipping_env: WorkflowEnvironment, task_queue: str) -> None:
    rec = Recorder()
    now = await skipping_env.get_current_time()
    async with rec.worker(skipping_env.client, task_queue):
        handle = await start(skipping_env.client, task_queue,
                             case_input(Plan.PREMIUM, Severity.A, registered_at=now))
        await skipping_env.sleep(timedelta(minutes=44))
        state = await handle.query(CaseWorkflow.state)
        assert state.sla.state is SlaState.PENDING
        assert state.sla.warned_at is None
        await skipping_env.sleep(timedelta(minutes=2))  # past 45 min = 75 % of 1 h
        state = await handle.query(CaseWorkflow.state)
        assert state.sla.warned_at is not None
        assert state.sla.state is SlaState.PENDING
        await skipping_env.sleep(timedelta(minutes=15))
        state = await handle.query(CaseWorkflow.state)
    assert state.sla.state is SlaState.BREACHED
    assert state.sla.breached_at is not None
    assert state.sla.breached_at - now >= timedelta(hours=1)
    assert state.sla.breached_at - now < timedelta(hours=1, minutes=1)
    assert rec.event_types.index("sla_warning") < rec.event_types.index("sla_breached")
    assert [(n.audience, n.kind) for n in rec.team if n.kind.startswith("sla")] == [
        ("agents", "sla_warning"), ("supervisors", "sla_breached")]


async def test_reaching_contact_meets_the_one_hour_target(
        skipping_env: WorkflowEnvironment, task_queue: str) -> None:
    rec = Recorder()
    now = await skipping_env.get_current_time()
    async with rec.worker(skipping_env.client, task_queue):
        handle = await start(skipping_env.client, task_queue,
                             case_input(Plan.FREE, Severity.A, registered_at=now))
        await skipping_env.sleep(timedelta(minutes=30))
        state = await handle.execute_update(CaseWorkflow.log_contact, PHONE_REACHED)
        assert state.sla.state is SlaState.MET
        assert state.stage is Stage.RESOLUCION_TELEFONICA
        await skipping_env.sleep(timedelta(hours=2))
        state = await handle.query(CaseWorkflow.state)
    assert state.sla.state is SlaState.MET
    assert state.sla.responded_at is not None
    assert "sla_breached" not in rec.event_types
    assert "sla_warning" not in rec.event_types


async def test_an_action_the_stage_forbids_is_rejected_before_history(
        skipping_env: WorkflowEnvironment, task_queue: str) -> None:
    rec = Recorder()
    now = await skipping_env.get_current_time()
    async with rec.worker(skipping_env.client, task_queue):
        handle = await start(skipping_env.client, task_queue,
                             case_input(Plan.ESTANDAR, Severity.B, registered_at=now))
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(CaseWorkflow.close, Close(actor="ana"))
        state = await handle.query(CaseWorkflow.state)
        history = await handle.fetch_history()
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == ACTION_NOT_ALLOWED
    assert "registro" in cause.message
    assert state.stage is Stage.REGISTRO
    accepted = [e for e in history.events if e.HasField(
        "workflow_execution_update_accepted_event_attributes")]
    assert len(accepted) == 1  # only the registration update, not the refused close
