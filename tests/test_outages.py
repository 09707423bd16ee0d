"""Outages across a breach, on the dev server with the real clock and the real 1 h
commitment of a case opened as if the customer had called 59 min 50 s ago.

PostgreSQL stopped for 30 s: the breach must still be decided at its instant, visible
to ops in Temporal, and the supervisors' notice must go out; once PostgreSQL is back the
read model must catch up with every event exactly once. The mail server down: the
breach must still be on time in Temporal and in the agents' case list.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from api.workflow_gateway import open_case
from tests.builders import case_input
from tests.eventually import eventually
from tests.faults import CuttableDatabase, cuttable
from tests.stack import ApiStack, api_stack, free_port
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity, SlaState
from workflows.messages import CaseInput
from workflows.search_attributes import PROJECTION_STATE

pytestmark = pytest.mark.asyncio(loop_scope="session")
OUTAGE = timedelta(seconds=30)
HOUR = timedelta(hours=1)


@pytest.fixture
async def stack_with_cuttable_db(
    local_env: WorkflowEnvironment, migrated_db: str
) -> AsyncIterator[tuple[ApiStack, CuttableDatabase]]:
    async with (
        cuttable(migrated_db) as db,
        api_stack(local_env, db.url, database_timeout_seconds=1.0) as stack,
    ):
        yield stack, db


def _due_soon() -> tuple[CaseInput, datetime]:
    registered = datetime.now(UTC) - timedelta(minutes=59, seconds=50)
    return case_input(Plan.PREMIUM, Severity.A, registered_at=registered), registered + HOUR


async def _listed_as_breached(env: WorkflowEnvironment, case_id: str) -> None:
    """Waits until Temporal's visibility (eventually consistent) lists the case breached."""

    async def listed() -> None:
        query = f"SlaState = 'breached' AND WorkflowId = '{case_id}'"
        found = (await env.client.count_workflows(query)).count
        assert found == 1, f"{case_id} listed {found} times as breached"

    await eventually(listed, within=10, every=0.2)


async def test_a_breach_while_postgresql_is_down(
    stack_with_cuttable_db: tuple[ApiStack, CuttableDatabase], local_env: WorkflowEnvironment
) -> None:
    stack, db = stack_with_cuttable_db
    inp, due = _due_soon()  # in about 10 s, while PostgreSQL is down
    await db.cut()
    down_since = datetime.now(UTC)
    opened = await open_case(
        local_env.client, stack.settings.temporal_task_queue, inp, timedelta(seconds=20)
    )
    assert opened is not None
    handle = local_env.client.get_workflow_handle_for(CaseWorkflow.run, inp.case_id)

    await asyncio.sleep(max((due - datetime.now(UTC)).total_seconds(), 0) + 1)
    state = await handle.query(CaseWorkflow.state)
    assert state.sla.state is SlaState.BREACHED
    assert state.sla.breached_at is not None
    assert state.sla.breached_at - due < timedelta(seconds=1)
    # The supervisors hear of it while PostgreSQL is still down.
    notice = await stack.inbox.wait_for(stack.settings.supervisors_email, inp.case_id)
    assert str(notice["Subject"]).startswith("Incumplido el tiempo de respuesta inicial: ")
    assert datetime.now(UTC) - due < timedelta(seconds=5)
    await _listed_as_breached(local_env, inp.case_id)
    # Agents can still read the case and act on it, from the workflow.
    r = await stack.http.get(f"/cases/{inp.case_id}", headers=stack.auth("key-ops"))
    assert r.status_code == 200
    assert r.json()["source"] == "workflow"
    assert r.json()["sla"]["state"] == "breached"
    r = await stack.act(inp.case_id, "contacts", {"channel": "phone", "outcome": "reached"})
    assert r.status_code == 200, r.text

    await asyncio.sleep(max((down_since + OUTAGE - datetime.now(UTC)).total_seconds(), 0))
    ready = (await stack.http.get("/readyz")).json()
    assert ready["postgresql"] == "unreachable"
    await db.restore()
    back = datetime.now(UTC)
    events = await stack.projected(inp.case_id, within=30)  # the bound
    assert datetime.now(UTC) - back < timedelta(seconds=30)
    counts = Counter(e["type"] for e in events)
    assert counts["case_registered"] == 1
    assert counts["sla_breached"] == 1
    assert counts["contact_logged"] == 1
    assert len({e["event_id"] for e in events}) == len(events)
    notes = await stack.http.get(
        f"/cases/{inp.case_id}/notifications", headers=stack.auth("key-ops")
    )
    assert "sla_breached" in [n["kind"] for n in notes.json()]
    # Ops saw the read model fall behind (after its first 20 s try) and catch up.
    history = await handle.fetch_history()
    marks = [
        attrs.indexed_fields[PROJECTION_STATE.name].data
        for e in history.events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
        and PROJECTION_STATE.name
        in (
            attrs := e.upsert_workflow_search_attributes_event_attributes.search_attributes
        ).indexed_fields
    ]
    assert marks == [b'"behind"', b'"current"']


async def test_a_breach_while_the_mail_server_is_down(
    local_env: WorkflowEnvironment, migrated_db: str
) -> None:
    closed = free_port()  # nothing listens there
    async with api_stack(local_env, migrated_db, smtp_port=closed) as stack:
        inp, due = _due_soon()
        # A customer of its own, so the list shows this case whatever else the database
        # holds.
        customer = inp.customer.model_copy(update={"id": f"C-{uuid.uuid4().hex[:12]}"})
        inp = inp.model_copy(update={"customer": customer})
        opened = await open_case(
            local_env.client, stack.settings.temporal_task_queue, inp, timedelta(seconds=20)
        )
        assert opened is not None
        await asyncio.sleep(max((due - datetime.now(UTC)).total_seconds(), 0) + 1)
        state = await local_env.client.get_workflow_handle_for(CaseWorkflow.run, inp.case_id).query(
            CaseWorkflow.state
        )
        assert state.sla.breached_at is not None
        assert state.sla.breached_at - due < timedelta(seconds=1)

        async def projected() -> None:
            r = await stack.http.get(
                "/cases",
                params={"sla_state": "breached", "customer_id": inp.customer.id},
                headers=stack.auth("key-ops"),
            )
            assert inp.case_id in [c["case_id"] for c in r.json()], r.text

        await eventually(projected, within=5, every=0.2)  # the projection does not wait for mail
        assert datetime.now(UTC) - due < timedelta(seconds=6)
        await _listed_as_breached(local_env, inp.case_id)
        assert stack.inbox.messages == []
