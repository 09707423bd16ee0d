"""The case store in PostgreSQL: the projection of each case and its event log.

`CaseStore` holds the pool; its activity methods are registered on the worker, its
query methods serve the API. Every write is idempotent: a retried activity upserts the
same revision and inserts events whose ids already exist, which changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel
from temporalio import activity

from activities.db import Pool
from workflows.models import CaseRecord, CaseState, TeamNotification


class StoredEvent(BaseModel):
    seq: int
    event_id: str
    case_id: str
    revision: int
    type: str
    at: datetime
    actor: str
    data: dict[str, Any]


class CaseSummary(BaseModel):
    """A row of the agents' case list."""

    case_id: str
    stage: str
    plan: str
    severity: str
    customer_id: str
    customer_name: str
    summary: str
    sla_state: str
    response_due: datetime | None
    registered_at: datetime
    queued: bool


class CaseFilter(BaseModel):
    stage: str | None = None
    sla_state: str | None = None
    plan: str | None = None
    severity: str | None = None
    customer_id: str | None = None
    queued: bool | None = None
    limit: int = 50
    after: str | None = None  # case id of the last row of the previous page


class StoredNotification(BaseModel):
    notification_id: str
    case_id: str
    audience: str
    kind: str
    message: str
    created_at: datetime


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


# Filters are parameters (a NULL one matches every row); the page starts after the
# `after` case in the same order, so concurrent inserts do not shift pages.
_LIST_CASES = """
WITH ordered AS (
    SELECT case_id, stage, plan, severity, customer_id,
           doc->'customer'->>'name' AS customer_name, doc->>'summary' AS summary,
           sla_state, response_due, registered_at,
           (doc->>'queued_at') IS NOT NULL AS queued,
           coalesce(response_due, 'infinity'::timestamptz) AS sort_due
    FROM cases
    WHERE (%(stage)s::text IS NULL OR stage = %(stage)s)
      AND (%(sla_state)s::text IS NULL OR sla_state = %(sla_state)s)
      AND (%(plan)s::text IS NULL OR plan = %(plan)s)
      AND (%(severity)s::text IS NULL OR severity = %(severity)s)
      AND (%(customer_id)s::text IS NULL OR customer_id = %(customer_id)s)
      AND (%(queued)s::boolean IS NULL OR ((doc->>'queued_at') IS NOT NULL) = %(queued)s)
)
SELECT case_id, stage, plan, severity, customer_id, customer_name, summary, sla_state,
       response_due, registered_at, queued
FROM ordered
WHERE %(after)s::text IS NULL OR (sort_due, case_id) > (
    SELECT coalesce(response_due, 'infinity'::timestamptz), case_id
    FROM cases WHERE case_id = %(after)s)
ORDER BY sort_due, case_id
LIMIT %(limit)s
"""


class CaseStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    @activity.defn(name="record_case")
    async def record_case(self, record: CaseRecord) -> None:
        state = record.state
        row = {
            "case_id": state.case_id,
            "revision": state.revision,
            "stage": state.stage.value,
            "plan": state.plan.value,
            "severity": state.severity.value,
            "customer_id": state.customer.id,
            "sla_state": state.sla.state.value,
            "response_due": state.sla.commitment.response_due,
            "registered_at": state.registered_at,
            "doc": Jsonb(state.model_dump(mode="json")),
        }
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(_UPSERT_CASE, row)
            async with conn.cursor() as cur:
                await cur.executemany(
                    _INSERT_EVENT,
                    [
                        (
                            e.event_id,
                            e.case_id,
                            state.revision,
                            e.type,
                            e.at,
                            e.actor,
                            Jsonb(e.data),
                        )
                        for e in record.events
                    ],
                )

    async def store_notification(self, note: TeamNotification) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO team_notifications (notification_id, case_id, audience, kind,"
                " message) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (note.notification_id, note.case_id, note.audience, note.kind, note.message),
            )

    # --- Queries for the API ---

    async def get_case(self, case_id: str) -> CaseState | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT doc FROM cases WHERE case_id = %s", (case_id,))
            row = await cur.fetchone()
        return None if row is None else CaseState.model_validate(row["doc"])

    async def events(self, case_id: str) -> list[StoredEvent]:
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=class_row(StoredEvent)) as cur,
        ):
            await cur.execute(
                "SELECT seq, event_id::text AS event_id, case_id, revision, type, at, actor,"
                " data FROM case_events WHERE case_id = %s ORDER BY seq",
                (case_id,),
            )
            return await cur.fetchall()

    async def notifications(self, case_id: str) -> list[StoredNotification]:
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=class_row(StoredNotification)) as cur,
        ):
            await cur.execute(
                "SELECT notification_id::text AS notification_id, case_id, audience, kind,"
                " message, created_at FROM team_notifications WHERE case_id = %s"
                " ORDER BY created_at",
                (case_id,),
            )
            return await cur.fetchall()

    async def list_cases(self, f: CaseFilter) -> list[CaseSummary]:
        """Most urgent first: by response deadline (none last), then by case id."""
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=class_row(CaseSummary)) as cur,
        ):
            await cur.execute(_LIST_CASES, f.model_dump())
            return await cur.fetchall()

    async def next_case_id(self) -> str:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT nextval('case_number_seq') AS n")
            row = await cur.fetchone()
        assert row is not None
        return f"CASE-{int(row['n']):06d}"

    async def claim_intake(self, key: str, case_id: str, body_sha256: str) -> tuple[str, str]:
        """Bind an Idempotency-Key to a case id; returns the (case_id, body hash) it holds."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO intake_requests (idempotency_key, case_id, body_sha256)"
                " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (key, case_id, body_sha256),
            )
            cur = await conn.execute(
                "SELECT case_id, body_sha256 FROM intake_requests WHERE idempotency_key = %s",
                (key,),
            )
            row = await cur.fetchone()
        assert row is not None
        return str(row["case_id"]), str(row["body_sha256"])

    async def ping(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("SELECT 1")
