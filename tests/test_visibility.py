"""Ops' queries in the Temporal UI work on the dev server's visibility store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowExecution
from temporalio.testing import WorkflowEnvironment

from api.workflow_gateway import open_case
from tests.builders import case_input
from tests.eventually import eventually
from tests.stack import ApiStack
from workflows.domain import Plan, Severity, SlaState

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _listed(env: WorkflowEnvironment, query: str) -> list[WorkflowExecution]:
    async def found() -> list[WorkflowExecution]:
        listed = [w async for w in env.client.list_workflows(query)]
        assert listed, f"nothing listed for {query}"
        return listed

    return await eventually(found, within=10, every=0.1)  # visibility is eventually consistent


async def test_breached_premium_cases_can_be_queried(
    stack: ApiStack, local_env: WorkflowEnvironment
) -> None:
    # Entered two hours after the customer called: the 1 h commitment is already missed.
    inp = case_input(Plan.PREMIUM, Severity.A, registered_at=datetime.now(UTC) - timedelta(hours=2))
    state = await open_case(
        local_env.client, stack.settings.temporal_task_queue, inp, timedelta(seconds=20)
    )
    assert state is not None
    found = await _listed(
        local_env,
        f"SlaState = 'breached' AND CasePlan = 'premium' AND WorkflowId = '{inp.case_id}'",
    )
    assert [w.id for w in found] == [inp.case_id]
    await stack.projected(inp.case_id)  # the read model follows the workflow
    stored = await stack.services.store.get_case(case_id=inp.case_id)
    assert stored is not None
    assert stored.sla.state is SlaState.BREACHED
    assert stored.sla.breached_at is not None
    assert stored.sla.breached_at - inp.registered_at >= timedelta(hours=2)
