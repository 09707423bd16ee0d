"""The SLA report's one statement over the read model: per policy version, plan and
severity, the counts and the (registered_at, responded_at) pairs of first responses.

`core.reports` turns these rows into the report (business time needs the policy's
calendar, so times to first response are measured there, not in SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from core.db import Pool


@dataclass(frozen=True)
class CellRow:
    """One policy version × plan × severity cell of the cases registered in a period."""

    policy_version: str
    plan: str
    severity: str
    availability: str | None
    target: str | None
    opened: int
    committed: int
    met: int
    breached: int
    pending: int
    not_committed: int
    registered: list[datetime]
    responded: list[datetime]


# Both arrays are aggregated with the same filter and order, so they pair up element by
# element: (registered_at, responded_at) of each case that has had its first response.
_CELLS = """
WITH counted AS (
    SELECT plan, severity, sla_state, registered_at,
           doc->'sla'->'commitment'->>'policy_version' AS policy_version,
           doc->'sla'->'commitment'->>'availability' AS availability,
           doc->'sla'->'commitment'->>'target' AS target,
           (doc->'sla'->'commitment'->>'committed')::boolean AS committed,
           (doc->'sla'->>'responded_at')::timestamptz AS responded_at,
           case_id
    FROM cases
    WHERE registered_at >= %(start)s AND registered_at < %(end)s
)
SELECT policy_version, plan, severity,
       min(availability) AS availability,
       min(target) AS target,
       count(*) AS opened,
       count(*) FILTER (WHERE committed) AS committed,
       count(*) FILTER (WHERE sla_state = 'met') AS met,
       count(*) FILTER (WHERE sla_state = 'breached') AS breached,
       count(*) FILTER (WHERE sla_state = 'pending') AS pending,
       count(*) FILTER (WHERE sla_state = 'not_committed') AS not_committed,
       coalesce(array_agg(registered_at ORDER BY case_id)
                FILTER (WHERE responded_at IS NOT NULL), '{}') AS registered,
       coalesce(array_agg(responded_at ORDER BY case_id)
                FILTER (WHERE responded_at IS NOT NULL), '{}') AS responded
FROM counted
GROUP BY policy_version, plan, severity
"""


async def report_cells(pool: Pool, *, start: datetime, end: datetime) -> list[CellRow]:
    """The cells of the cases registered in [start, end), in one snapshot."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(CellRow)) as cur:
        await cur.execute(_CELLS, {"start": start, "end": end})
        return await cur.fetchall()
