"""The cases in PostgreSQL: each case's document, its event log, its team notices and
the intake's Idempotency-Keys.

`CaseStore` serves the API's reads and the projection activities' writes
(`activities.projection`). Every write is idempotent: a retried batch upserts a
revision that is not newer (no-op) and inserts events and notices whose ids exist
(no-op).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from core.db import Pool
from core.store.links import LinkStore
from workflows.messages import TeamNotification
from workflows.models import CaseState


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
    opened_by: str | None = None  # a contact center reads only the cases it opened
    limit: int = 50
    after: str | None = None  # case id of the last row of the previous page


class StoredNotification(BaseModel):
    notification_id: str
    case_id: str
    audience: str
    kind: str
    message: str
    created_at: datetime


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
      AND (%(opened_by)s::text IS NULL OR doc->>'opened_by' = %(opened_by)s)
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


@dataclass(frozen=True)
class NewEvent:
    """An event of the log as the projection writes it."""

    event_id: str
    case_id: str
    revision: int
    type: str
    at: datetime
    actor: str
    data: dict[str, Any]


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


def _case_row(state: CaseState) -> dict[str, Any]:
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


def _event_row(e: NewEvent) -> tuple[object, ...]:
    data = Jsonb(e.data, dumps=_dumps)
    return (e.event_id, e.case_id, e.revision, e.type, e.at, e.actor, data)


def _notice_row(n: TeamNotification) -> tuple[object, ...]:
    return (n.notification_id, n.case_id, n.audience, n.kind, n.message)


class CaseStore:
    """The cases' tables; `links` the customers' one-time links on the same pool."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.links = LinkStore(pool)

    # --- Writes of the projection (activities.projection) ---

    async def project(
        self,
        *,
        state: CaseState,
        events: Sequence[NewEvent] = (),
        notices: Sequence[TeamNotification] = (),
    ) -> None:
        """The case's document (unless the stored one is as new), then its new events
        and notices, in one transaction. psycopg.DataError when PostgreSQL refuses the
        data (the caller decides it is not worth retrying)."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(_UPSERT_CASE, _case_row(state))
            async with conn.cursor() as cur:
                await cur.executemany(_INSERT_EVENT, [_event_row(e) for e in events])
                await cur.executemany(_INSERT_NOTICE, [_notice_row(n) for n in notices])

    async def save_notice(self, *, notice: TeamNotification) -> None:
        """A team notice alone (version 1's `notify_team`)."""
        async with self.pool.connection() as conn:
            await conn.execute(_INSERT_NOTICE, _notice_row(notice))

    # --- Queries for the API ---

    async def get_case(self, *, case_id: str) -> CaseState | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT doc FROM cases WHERE case_id = %s", (case_id,))
            row = await cur.fetchone()
        return None if row is None else CaseState.model_validate(row["doc"])

    async def events(self, *, case_id: str) -> list[StoredEvent]:
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

    async def notifications(self, *, case_id: str) -> list[StoredNotification]:
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

    async def list_cases(self, *, wanted: CaseFilter) -> list[CaseSummary]:
        """Most urgent first: by response deadline (none last), then by case id."""
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=class_row(CaseSummary)) as cur,
        ):
            await cur.execute(_LIST_CASES, wanted.model_dump())
            return await cur.fetchall()

    async def next_case_id(self) -> str:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT nextval('case_number_seq') AS n")
            row = await cur.fetchone()
        assert row is not None
        return f"CASE-{int(row['n']):06d}"

    async def intake_claim(
        self, *, principal: str, key: str, ttl: timedelta
    ) -> tuple[str, str] | None:
        """The (case id, body digest) an unexpired Idempotency-Key of `principal` holds."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT case_id, body_sha256 FROM intake_requests WHERE principal = %s"
                " AND idempotency_key = %s AND created_at > now() - %s",
                (principal, key, ttl),
            )
            row = await cur.fetchone()
        return None if row is None else (str(row["case_id"]), str(row["body_sha256"]))

    async def claim_intake(
        self, *, principal: str, key: str, case_id: str, body_sha256: str, ttl: timedelta
    ) -> tuple[str, str]:
        """Bind a key to a new case (replacing an expired claim); returns what the key
        holds after, which is another request's when it won a race."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO intake_requests (principal, idempotency_key, case_id, body_sha256)"
                " VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (principal, idempotency_key) DO UPDATE SET"
                " case_id = EXCLUDED.case_id, body_sha256 = EXCLUDED.body_sha256,"
                " created_at = now() WHERE intake_requests.created_at <= now() - %s",
                (principal, key, case_id, body_sha256, ttl),
            )
        held = await self.intake_claim(principal=principal, key=key, ttl=ttl)
        assert held is not None
        return held

    async def ping(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("SELECT 1")
