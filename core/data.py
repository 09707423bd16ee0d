"""The case store in PostgreSQL: the projection of each case and its event log.

`CaseStore` holds the pool and serves the API's reads; the projection activities
(`activities.projection`) write what it reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import class_row
from pydantic import BaseModel

from core.db import Pool
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


class CaseStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

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

    async def customer_link(self, *, table: str, digest: bytes) -> dict[str, Any] | None:
        """The row of a customer's one-time link (authorization or session) by the
        SHA-256 of its secret; a plain read, no lock."""
        query = {
            "remote_authorizations": "SELECT * FROM remote_authorizations WHERE token_hash = %s",
            "remote_sessions": "SELECT * FROM remote_sessions WHERE code_hash = %s",
        }[table]
        async with self.pool.connection() as conn:
            cur = await conn.execute(query, (digest,))
            return await cur.fetchone()

    async def record_decision(
        self, *, request_id: str, decision: str, ip: str | None, user_agent: str | None
    ) -> None:
        """Note the customer's decision beside the link (the case's events hold the
        consent itself). One statement, no lock: the workflow already decided."""
        async with self.pool.connection() as conn:
            if decision == "revoked":
                await conn.execute(
                    "UPDATE remote_authorizations SET revoked_at = now() WHERE request_id = %s",
                    (request_id,),
                )
                return
            await conn.execute(
                "UPDATE remote_authorizations SET decided_at = now(), decision = %s,"
                " decided_ip = %s, decided_user_agent = %s"
                " WHERE request_id = %s AND decided_at IS NULL",
                (decision, ip, user_agent, request_id),
            )

    async def ping(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("SELECT 1")
