"""The SLA compliance report: the seed's plan × severity table, read from the cases.

Counts come from PostgreSQL's read model (`cases.doc`, written by the projection) in one
statement, so every figure of a report comes from the same snapshot. Times to first
response are measured here rather than in SQL because business-hours cells count
business time, which needs the policy's calendar (`workflows.sla`).

A case counts under what it records: the policy version, availability, target and SLA
state of its own commitment (pinned when it opened, recomputed under that same policy
when its plan or severity changed), in the cell of its current plan and severity.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import floor
from typing import Any

from core.db import Pool
from core.store.reports import CellRow, report_cells
from workflows.domain import Availability, Plan, Severity

# The calendar's own arithmetic, so that the report and the deadlines agree on what a
# business hour is; it is private to workflows/sla.py, which this module does not own.
from workflows.sla import SlaPolicy, business_between


def percentile(values: list[timedelta], q: float) -> timedelta | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Figures:
    """What the report says about a set of cases."""

    opened: int = 0
    committed: int = 0
    met: int = 0
    breached: int = 0
    pending: int = 0
    not_committed: int = 0
    response_times: list[timedelta] = field(default_factory=list)

    @property
    def responded(self) -> int:
        return len(self.response_times)

    @property
    def median(self) -> timedelta | None:
        return percentile(self.response_times, 0.5)

    @property
    def p90(self) -> timedelta | None:
        return percentile(self.response_times, 0.9)

    def add(self, other: Figures) -> None:
        self.opened += other.opened
        self.committed += other.committed
        self.met += other.met
        self.breached += other.breached
        self.pending += other.pending
        self.not_committed += other.not_committed
        self.response_times += other.response_times


@dataclass(kw_only=True)
class Cell(Figures):
    policy_version: str
    plan: Plan
    severity: Severity
    availability: Availability | None
    target: str | None


@dataclass
class SlaReport:
    start: datetime
    end: datetime
    timezone: str
    active_version: str
    policy_versions: list[str]
    cells: list[Cell]
    totals: Figures


def _response_time(
    policy: SlaPolicy, availability: Availability | None, registered: datetime, answered: datetime
) -> timedelta:
    if availability is Availability.BUSINESS_HOURS:
        # From registration, not attention_from: the business time before the first
        # business instant is zero, so both give the same figure.
        return business_between(policy, registered, answered)
    return answered - registered


def _cell(policy: SlaPolicy, row: CellRow) -> Cell:
    availability = None if row.availability is None else Availability(row.availability)
    return Cell(
        policy_version=row.policy_version,
        plan=Plan(row.plan),
        severity=Severity(row.severity),
        availability=availability,
        target=row.target,
        opened=row.opened,
        committed=row.committed,
        met=row.met,
        breached=row.breached,
        pending=row.pending,
        not_committed=row.not_committed,
        response_times=[
            _response_time(policy, availability, registered, answered)
            for registered, answered in zip(row.registered, row.responded, strict=True)
        ],
    )


def _grid(policy: SlaPolicy, found: dict[tuple[str, Plan, Severity], Cell]) -> list[Cell]:
    """Every cell of the active policy (the seed's whole table, zeros included), then the
    cells of other versions that have cases, each version's in the matrix's order."""
    for plan in Plan:
        for severity in Severity:
            key = (policy.version, plan, severity)
            if key not in found:
                cell = policy.cell(plan, severity)
                found[key] = Cell(
                    policy_version=policy.version,
                    plan=plan,
                    severity=severity,
                    availability=cell.availability,
                    target=cell.target,
                )
    plans, severities = list(Plan), list(Severity)
    return sorted(
        found.values(),
        key=lambda c: (
            c.policy_version != policy.version,
            c.policy_version,
            plans.index(c.plan),
            severities.index(c.severity),
        ),
    )


async def sla_report(pool: Pool, policy: SlaPolicy, start: datetime, end: datetime) -> SlaReport:
    """The cases registered in [start, end), cell by cell. Business time is counted with
    the active policy's calendar (the only one the API holds)."""
    rows = await report_cells(pool, start=start, end=end)
    found = {(c.policy_version, c.plan, c.severity): c for c in (_cell(policy, r) for r in rows)}
    totals = Figures()
    for cell in found.values():
        totals.add(cell)
    return SlaReport(
        start=start,
        end=end,
        timezone=policy.timezone,
        active_version=policy.version,
        policy_versions=sorted({c.policy_version for c in found.values()}),
        cells=_grid(policy, found),
        totals=totals,
    )


# --- The report as CSV: the API's `Accept: text/csv` answer and the mail's attachment ---

CSV_COLUMNS = [
    "policy_version",
    "plan",
    "severity",
    "availability",
    "target",
    "opened",
    "committed",
    "met",
    "breached",
    "pending",
    "not_committed",
    "responded",
    "first_response_median_seconds",
    "first_response_p90_seconds",
]


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def figures(f: Figures) -> dict[str, Any]:
    """A cell's or the totals' counts and times, as the API's JSON and the CSV name them."""
    return {
        "opened": f.opened,
        "committed": f.committed,
        "met": f.met,
        "breached": f.breached,
        "pending": f.pending,
        "not_committed": f.not_committed,
        "responded": f.responded,
        "first_response_median_seconds": _seconds(f.median),
        "first_response_p90_seconds": _seconds(f.p90),
    }


def _csv_value(value: object) -> object:
    # Empty for "none" (no target, no answered case), microseconds for times, the
    # enums' own words for the rest: a spreadsheet reads each column as one type.
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return getattr(value, "value", value)


def report_csv(report: SlaReport) -> str:
    """A header row, one row per cell, and a last row `total` for the whole period."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in report.cells:
        row = figures(c) | {
            "policy_version": c.policy_version,
            "plan": c.plan,
            "severity": c.severity,
            "availability": c.availability,
            "target": c.target,
        }
        writer.writerow([_csv_value(row[k]) for k in CSV_COLUMNS])
    totals = figures(report.totals) | {"policy_version": "", "plan": "total", "severity": ""}
    writer.writerow([_csv_value(totals.get(k)) for k in CSV_COLUMNS])
    return buffer.getvalue()
