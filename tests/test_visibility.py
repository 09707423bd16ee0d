"""Ops' queries in the Temporal UI work on the dev server's visibility store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowExecution
from temporalio.testing import WorkflowEnvironment

from api.workflow_gateway import open_case
from tests.builders import case_input
from tests.stack import ApiStack, api_stack
from workflows.domain import Plan, Severity, SlaState

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def stack(local_env: WorkflowEnvironment, migrated_db: str) -> AsyncIterator[ApiStack]:
    async with api_stack(local_env, migrated_db) as s:
        yield s


async def _listed(env: WorkflowEnvironment, query: str) -> list[WorkflowExecution]:
    for _ in range(100):  # visibility is eventually consistent: about 10 s at most
        found = [w async for w in env.client.list_workflows(query)]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


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
