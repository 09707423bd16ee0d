"""The projection activities and the API's store against a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.errors import PROJECTION_REJECTED
from activities.projection import Projector
from core.db import Pool, make_pool, migrate
from core.store import CaseStore
from tests.builders import case_input
from workflows.domain import Stage
from workflows.messages import (
    CaseRecord,
    Change,
    EventRecord,
    ProjectionBatch,
    TeamNotification,
    event_id,
)
from workflows.models import CaseState
from workflows.transitions import initial_state


@pytest.fixture(scope="session")
async def pool(migrated_db: str) -> AsyncIterator[Pool]:
    async with make_pool(migrated_db) as p:
        yield p


@pytest.fixture
def store(pool: Pool) -> CaseStore:
    return CaseStore(pool)


def _state() -> CaseState:
    state = initial_state(case_input(registered_at=datetime.now(UTC)))
    state.revision = 1
    return state


def _event(type_: str, **data: Any) -> EventRecord:
    return EventRecord(type=type_, actor="ana", data=data or {"k": "v"})


class _Workflow:
    """Stands in for the Temporal client: the projector reads the case by a query."""

    def __init__(self, state: CaseState) -> None:
        self.state = state

    def get_workflow_handle(self, case_id: str) -> _Workflow:
        assert case_id == self.state.case_id
        return self

    async def query(self, name: str, *, result_type: type[CaseState]) -> CaseState:
        assert name == "state"
        return self.state.model_copy(deep=True)


def _projector(pool: Pool, state: CaseState) -> Projector:
    return Projector(pool, cast(Client, _Workflow(state)))


def _batch(state: CaseState, *events: EventRecord, notices: int = 0) -> ProjectionBatch:
    """One change at the state's revision."""
    notes = [
        TeamNotification(
            notification_id=str(uuid.uuid4()),
            case_id=state.case_id,
            audience="supervisors",
            kind="sla_breached",
            message="vencido",
        )
        for _ in range(notices)
    ]
    change = Change(
        revision=state.revision, at=datetime.now(UTC), events=list(events), notices=notes
    )
    return ProjectionBatch(case_id=state.case_id, changes=[change])


async def test_project_then_read_back(store: CaseStore, pool: Pool) -> None:
    state = _state()
    batch = _batch(state, _event("case_registered"), notices=1)
    await _projector(pool, state).project(batch)
    assert await store.get_case(case_id=state.case_id) == state
    events = await store.events(case_id=state.case_id)
    assert [(e.type, e.revision, e.data) for e in events] == [("case_registered", 1, {"k": "v"})]
    assert events[0].event_id == event_id(state.case_id, 1, 0)  # stable across retries
    assert [n.kind for n in await store.notifications(case_id=state.case_id)] == ["sla_breached"]


async def test_a_retried_batch_changes_nothing(store: CaseStore, pool: Pool) -> None:
    state = _state()
    batch = _batch(state, _event("case_registered"), _event("case_queued"), notices=1)
    projector = _projector(pool, state)
    await projector.project(batch)
    await projector.project(batch)  # what an activity retry does
    events = await store.events(case_id=state.case_id)
    assert [e.type for e in events] == ["case_registered", "case_queued"]
    assert len(await store.notifications(case_id=state.case_id)) == 1


async def test_an_older_revision_never_overwrites_a_newer_one(store: CaseStore, pool: Pool) -> None:
    state = _state()
    first = state.model_copy(deep=True)
    state.revision, state.stage = 2, Stage.CONTACTO
    await _projector(pool, state).project(_batch(state))
    await _projector(pool, first).record_case(CaseRecord(state=first, events=[]))
    stored = await store.get_case(case_id=state.case_id)
    assert stored is not None
    assert stored.stage is Stage.CONTACTO
    assert stored.revision == 2


async def test_event_log_is_append_only(pool: Pool) -> None:
    state = _state()
    await _projector(pool, state).project(_batch(state, _event("case_registered")))
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            await conn.execute("DELETE FROM case_events WHERE case_id = %s", (state.case_id,))


async def test_event_log_refuses_truncate(pool: Pool) -> None:
    state = _state()
    await _projector(pool, state).project(_batch(state, _event("case_registered")))
    # Rolled back whatever happens: were the trigger missing, nothing would be lost.
    async with pool.connection() as conn, conn.transaction(force_rollback=True):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            await conn.execute("TRUNCATE case_events")


async def test_a_nul_character_cannot_block_the_log(store: CaseStore, pool: Pool) -> None:
    # Inputs refuse NUL; a value from before that rule is stored, not retried forever.
    state = _state()
    state.summary = "antes\x00después"
    await _projector(pool, state).project(_batch(state, _event("x", note="a\x00b")))
    stored = await store.get_case(case_id=state.case_id)
    assert stored is not None
    assert stored.summary == "antes\ufffddespués"
    assert (await store.events(case_id=state.case_id))[0].data == {"note": "a\ufffdb"}


async def test_data_postgresql_refuses_is_a_non_retryable_failure(pool: Pool) -> None:
    state = _state()
    state.revision = 2**31  # past PostgreSQL's integer: retrying cannot help
    with pytest.raises(ApplicationError) as err:
        await _projector(pool, state).project(_batch(state))
    assert err.value.type == PROJECTION_REJECTED
    assert err.value.non_retryable


async def test_case_ids_are_readable_and_distinct(store: CaseStore) -> None:
    first, second = await store.next_case_id(), await store.next_case_id()
    assert first != second
    assert first.startswith("CASE-")
    assert len(first) == len("CASE-000123")


async def test_migrations_are_idempotent(migrated_db: str) -> None:
    assert await migrate(migrated_db) == []
