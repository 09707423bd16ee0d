"""The read model in PostgreSQL: each case's document, its event log and its notices.

The projection lane of the workflow sends new events and notices in order; the case's
document is read from the workflow itself (a query), so history does not carry a copy
of the case with every change. Every write is idempotent: a retried batch upserts a
revision that is not newer (no-op) and inserts events whose ids exist (no-op).
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.errors import PROJECTION_REJECTED
from core.db import Pool
from workflows.messages import CaseRecord, ProjectionBatch, event_id
from workflows.models import CaseState

_UPSERT_CASE = """
INSERT INTO cases (case_id, revision, stage, plan, severity, customer_id, sla_state,
                   response_due, registered_at, doc)
VALUES (%(case_id)s, %(revision)s, %(stage)s, %(plan)s, %(severity)s, %(customer_id)s,
        %(sla_state)s, %(response_due)s, %(registered_at)s, %(doc)s)
ON CONFLICT (case_id) DO UPDATE SET
    revision = EXCLUDED.revision, stage = EXCLUDED.stage, plan = EXCLUDED.plan,
    severity = EXCLUDED.severity, sla_state = EXCLUDED.sla_state,
    response_due = EXCLUDED.response_due, doc = EXCLUDED.doc, updated_at = now()
WHERE cases.revision < EXCLUDED.revision
"""

_INSERT_EVENT = """
INSERT INTO case_events (event_id, case_id, revision, type, at, actor, data)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id) DO NOTHING
"""

_INSERT_NOTICE = """
INSERT INTO team_notifications (notification_id, case_id, audience, kind, message)
VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""


def _dumps(value: Any) -> str:
    # jsonb cannot hold U+0000; inputs refuse it, and this keeps an old value from
    # blocking the log forever.
    return json.dumps(value, ensure_ascii=False).replace("\\u0000", "\\ufffd")


def _row(state: CaseState) -> dict[str, Any]:
    return {
        "case_id": state.case_id,
        "revision": state.revision,
        "stage": state.stage.value,
        "plan": state.plan.value,
        "severity": state.severity.value,
        "customer_id": state.customer.id,
        "sla_state": state.sla.state.value,
        "response_due": state.sla.commitment.response_due,
        "registered_at": state.registered_at,
        "doc": Jsonb(state.model_dump(mode="json"), dumps=_dumps),
    }


Row = tuple[object, ...]


def _rows(batch: ProjectionBatch) -> tuple[list[Row], list[Row]]:
    """(events, notices) of a batch as table rows, in order."""
    events: list[Row] = []
    for c in batch.changes:
        for i, e in enumerate(c.events):
            ident = event_id(batch.case_id, c.revision, i)
            data = Jsonb(e.data, dumps=_dumps)
            events.append((ident, batch.case_id, c.revision, e.type, c.at, e.actor, data))
    notices: list[Row] = [
        (n.notification_id, n.case_id, n.audience, n.kind, n.message)
        for c in batch.changes
        for n in c.notices
    ]
    return events, notices


class Projector:
    def __init__(self, pool: Pool, client: Client) -> None:
        self.pool = pool
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
        events: list[Row] = [
            (e.event_id, e.case_id, revision, e.type, e.at, e.actor, Jsonb(e.data, dumps=_dumps))
            for e in record.events
        ]
        await self._write(record.state, events, [])

    async def _write(self, state: CaseState, events: list[Row], notices: list[Row]) -> None:
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute(_UPSERT_CASE, _row(state))
                async with conn.cursor() as cur:
                    await cur.executemany(_INSERT_EVENT, events)
                    await cur.executemany(_INSERT_NOTICE, notices)
        except psycopg.DataError as exc:
            raise ApplicationError(
                f"PostgreSQL refused the data: {exc.sqlstate} {type(exc).__name__}",
                type=PROJECTION_REJECTED,
                non_retryable=True,
            ) from exc
