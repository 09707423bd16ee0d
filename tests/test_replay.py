"""Replaying a recorded history with today's code must give the same commands.

A change that makes the workflow non-deterministic (a new timer, a reordered activity)
would break every open case on deployment; this catches it in the suite.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from tests.builders import opened
from worker.build import WORKFLOW_RUNNER
from workflows.case import CaseWorkflow
from workflows.models import ContactChannel, ContactOutcome, LogContact, ResolutionMethod, Resolve


async def test_a_full_case_history_replays(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with opened(skipping_env, task_queue) as (rec, handle, _):
        await skipping_env.sleep(timedelta(minutes=50))  # past the SLA warning
        await handle.execute_update(
            CaseWorkflow.log_contact,
            LogContact(actor="ana", channel=ContactChannel.PHONE, outcome=ContactOutcome.REACHED),
        )
        await handle.execute_update(
            CaseWorkflow.resolve,
            Resolve(actor="ana", methods=[ResolutionMethod.PHONE], summary="ok"),
        )
        await skipping_env.sleep(timedelta(days=6))  # closes by itself
        await handle.result()
        history = await handle.fetch_history()
    assert "sla_warning" in rec.event_types
    assert "case_closed" in rec.event_types
    replayer = Replayer(
        workflows=[CaseWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=WORKFLOW_RUNNER,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None
