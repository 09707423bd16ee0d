"""A long case continues as new when Temporal suggests it, carrying its whole state.

The dev server is told to suggest continue-as-new after a short history (a server
setting, as an operator would tune it), so a few dozen actions are enough.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from api.workflow_gateway import send_update
from tests.builders import NO_ANSWER, REACHED, Recorder, start_dev_server, workflow_case
from tests.eventually import eventually
from workflows.case import CaseWorkflow
from workflows.domain import SlaState, Stage
from workflows.messages import CustomerMail

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


async def unanswered_calls(env: WorkflowEnvironment, case_id: str, count: int) -> None:
    """Enough actions for the server to suggest continue-as-new, by the API's path."""
    for i in range(count):
        cmd = NO_ANSWER.model_copy(update={"request_id": f"call-{i}"})
        await send_update(env.client, case_id, CaseWorkflow.log_contact, cmd, WAIT)


async def test_a_long_case_continues_as_new_with_its_state(
    short_history_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = short_history_env
    async with workflow_case(env, task_queue) as case:
        handle = case.handle
        first_run = (await handle.describe()).run_id
        await unanswered_calls(env, handle.id, 30)
        reached = REACHED.model_copy(update={"request_id": "call-reached"})
        state = await send_update(env.client, handle.id, CaseWorkflow.log_contact, reached, WAIT)
        # A retry of an action applied before continue-as-new is still recognised.
        again = NO_ANSWER.model_copy(update={"request_id": "call-0"})
        retried = await send_update(env.client, handle.id, CaseWorkflow.log_contact, again, WAIT)
        latest = env.client.get_workflow_handle_for(CaseWorkflow.run, handle.id)
        described = await latest.describe()
        final = await latest.query(CaseWorkflow.state)
    assert described.run_id != first_run
    assert len(state.contacts) == 31
    assert len(retried.contacts) == 31
    assert final.stage is Stage.RESOLUCION_TELEFONICA
    assert final.sla.state is SlaState.MET
    assert final.revision == state.revision
    assert case.rec.event_types.count("case_registered") == 1


@dataclass
class MailDownUntilToldOtherwise(Recorder):
    down: bool = True

    @activity.defn(name="send_customer_mail")
    async def send_customer_mail(self, mail: CustomerMail) -> None:
        if self.down:
            raise RuntimeError("connection refused (the mail server is down)")
        await super().send_customer_mail(mail)


async def test_messages_pending_at_continue_as_new_go_out_from_the_new_run(
    short_history_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = short_history_env
    rec = MailDownUntilToldOtherwise()
    async with workflow_case(env, task_queue, rec=rec) as case:
        handle = case.handle
        first_run = (await handle.describe()).run_id
        # The acknowledgement waits meanwhile: the mail server is down.
        await unanswered_calls(env, handle.id, 30)
        assert (await handle.describe()).run_id != first_run
        assert rec.customer == []
        rec.down = False

        async def sent() -> None:
            assert rec.customer, "no customer mail sent yet"

        await eventually(sent, within=30, every=0.2)  # the lane retries every 30 s at most
    assert rec.customer == ["acknowledgement"]
    assert rec.event_types.count("case_registered") == 1
