"""The read model in PostgreSQL: each case's document, its event log and its notices.

The projection lane of the workflow sends new events and notices in order; the case's
document is read from the workflow itself (a query), so history does not carry a copy
of the case with every change. The writes are `core.store.CaseStore.project`, which is
idempotent: a retried batch changes nothing.
"""

from __future__ import annotations

import psycopg
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.errors import PROJECTION_REJECTED
from core.db import Pool
from core.store import CaseStore, NewEvent
from workflows.messages import CaseRecord, ProjectionBatch, TeamNotification, event_id
from workflows.models import CaseState


def _rows(batch: ProjectionBatch) -> tuple[list[NewEvent], list[TeamNotification]]:
    """(events, notices) of a batch, in order."""
    events = [
        NewEvent(event_id(batch.case_id, c.revision, i), batch.case_id, c.revision, e.type, c.at,
                 e.actor, e.data)
        for c in batch.changes
        for i, e in enumerate(c.events)
    ]  # fmt: skip
    return events, [n for c in batch.changes for n in c.notices]


class Projector:
    def __init__(self, pool: Pool, client: Client) -> None:
        self.store = CaseStore(pool)
        self.client = client

    @activity.defn(name="project_case")
    async def project(self, batch: ProjectionBatch) -> None:
        state = await self.client.get_workflow_handle(batch.case_id).query(
            "state", result_type=CaseState
        )
        await self._write(state, *_rows(batch))

    @activity.defn(name="record_case")
    async def record_case(self, record: CaseRecord) -> None:
        """Version 1's projection (the whole state with every change), for its cases."""
        revision = record.state.revision
        events = [
            NewEvent(e.event_id, e.case_id, revision, e.type, e.at, e.actor, e.data)
            for e in record.events
        ]
        await self._write(record.state, events, [])

    async def _write(
        self, state: CaseState, events: list[NewEvent], notices: list[TeamNotification]
    ) -> None:
        try:
            await self.store.project(state=state, events=events, notices=notices)
        except psycopg.DataError as exc:
            raise ApplicationError(
                f"PostgreSQL refused the data: {exc.sqlstate} {type(exc).__name__}",
                type=PROJECTION_REJECTED,
                non_retryable=True,
            ) from exc
