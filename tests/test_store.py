"""The case store's activities against a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import psycopg
import pytest

from activities.db import Pool, make_pool, migrate
from activities.store import CaseStore
from tests.builders import case_input
from workflows.case import CaseWorkflow
from workflows.domain import Stage
from workflows.models import CaseEvent, CaseRecord, CaseState, TeamNotification


@pytest.fixture(scope="session")
async def pool(migrated_db: str) -> AsyncIterator[Pool]:
    async with make_pool(migrated_db) as p:
        yield p


@pytest.fixture
def store(pool: Pool) -> CaseStore:
    return CaseStore(pool)


def _state() -> CaseState:
    # The workflow's own constructor builds the initial state from an input.
    inp = case_input(registered_at=datetime.now(UTC))
    return CaseWorkflow._initial_state(inp)


def _event(state: CaseState, type_: str) -> CaseEvent:
    return CaseEvent(
        event_id=str(uuid.uuid4()),
        case_id=state.case_id,
        type=type_,
        at=datetime.now(UTC),
        actor="ana",
        data={"k": "v"},
    )


async def test_record_then_read_back(store: CaseStore) -> None:
    state = _state()
    state.revision = 1
    await store.record_case(CaseRecord(state=state, events=[_event(state, "case_registered")]))
    assert await store.get_case(state.case_id) == state
    events = await store.events(state.case_id)
    assert [e.type for e in events] == ["case_registered"]
    assert events[0].data == {"k": "v"}


async def test_a_retried_record_changes_nothing(store: CaseStore) -> None:
    state = _state()
    state.revision = 1
    record = CaseRecord(
        state=state, events=[_event(state, "case_registered"), _event(state, "case_queued")]
    )
    await store.record_case(record)
    await store.record_case(record)  # what an activity retry does
    assert [e.type for e in await store.events(state.case_id)] == ["case_registered", "case_queued"]


async def test_an_older_revision_never_overwrites_a_newer_one(store: CaseStore) -> None:
    state = _state()
    state.revision = 1
    first = CaseRecord(state=state.model_copy(deep=True), events=[])
    state.revision, state.stage = 2, Stage.CONTACTO
    await store.record_case(CaseRecord(state=state, events=[]))
    await store.record_case(first)  # a late retry of revision 1
    stored = await store.get_case(state.case_id)
    assert stored is not None
    assert stored.stage is Stage.CONTACTO
    assert stored.revision == 2


async def test_event_log_is_append_only(store: CaseStore, pool: Pool) -> None:
    state = _state()
    state.revision = 1
    await store.record_case(CaseRecord(state=state, events=[_event(state, "case_registered")]))
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            await conn.execute("DELETE FROM case_events WHERE case_id = %s", (state.case_id,))


async def test_notifications_are_stored_once(store: CaseStore) -> None:
    state = _state()
    state.revision = 1
    await store.record_case(CaseRecord(state=state, events=[]))
    note = TeamNotification(
        notification_id=str(uuid.uuid4()),
        case_id=state.case_id,
        audience="supervisors",
        kind="sla_breached",
        message="vencido",
    )
    await store.store_notification(note)
    await store.store_notification(note)
    assert [n.kind for n in await store.notifications(state.case_id)] == ["sla_breached"]


async def test_case_ids_are_readable_and_distinct(store: CaseStore) -> None:
    first, second = await store.next_case_id(), await store.next_case_id()
    assert first != second
    assert first.startswith("CASE-")
    assert len(first) == len("CASE-000123")


async def test_migrations_are_idempotent(migrated_db: str) -> None:
    assert await migrate(migrated_db) == []
