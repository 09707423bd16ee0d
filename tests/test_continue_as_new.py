"""A long case continues as new when Temporal suggests it, carrying its whole state.

The dev server is told to suggest continue-as-new after a short history (a server
setting, as an operator would tune it), so a few dozen actions are enough.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from api.workflow_gateway import send_update
from tests.builders import Recorder, case_input, start, start_dev_server
from workflows.case import CaseWorkflow
from workflows.domain import SlaState, Stage
from workflows.models import ContactChannel, ContactOutcome, LogContact

pytestmark = pytest.mark.asyncio(loop_scope="session")
# The API's own path: it retries while the workflow continues as new.
WAIT = timedelta(seconds=10)


@pytest.fixture(scope="module")
async def short_history_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server(
        "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=80"
    )
    yield env
    await env.shutdown()


async def test_a_long_case_continues_as_new_with_its_state(
    short_history_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = short_history_env
    rec = Recorder()
    async with rec.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, case_input(registered_at=datetime.now(UTC)))
        first_run = (await handle.describe()).run_id
        for i in range(30):
            await send_update(
                env.client,
                handle.id,
                CaseWorkflow.log_contact,
                LogContact(
                    actor="ana",
                    channel=ContactChannel.PHONE,
                    outcome=ContactOutcome.NO_ANSWER,
                    request_id=f"call-{i}",
                ),
                WAIT,
            )
        reached = LogContact(
            actor="ana",
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.REACHED,
            request_id="call-reached",
        )
        state = await send_update(env.client, handle.id, CaseWorkflow.log_contact, reached, WAIT)
        # A retry of an action applied before continue-as-new is still recognised.
        retried = await send_update(
            env.client,
            handle.id,
            CaseWorkflow.log_contact,
            LogContact(
                actor="ana",
                channel=ContactChannel.PHONE,
                outcome=ContactOutcome.NO_ANSWER,
                request_id="call-0",
            ),
            WAIT,
        )
        latest = env.client.get_workflow_handle_for(CaseWorkflow.run, handle.id)
        described = await latest.describe()
        final = await latest.query(CaseWorkflow.state)
    assert described.run_id != first_run
    assert len(state.contacts) == 31
    assert len(retried.contacts) == 31
    assert final.stage is Stage.RESOLUCION_TELEFONICA
    assert final.sla.state is SlaState.MET
    assert final.revision == state.revision
    assert rec.event_types.count("case_registered") == 1
