"""/reports/sla: whether amger:pro keeps its commitments, cell by cell, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api.deps import PolicyDep, StoreDep, require
from api.errors import BadRequest
from api.principals import ApiPrincipal, Role
from api.schemas import ErrorOut, SlaFigures, SlaReportCell, SlaReportOut
from core.reports import Cell, Figures, SlaReport, sla_report

# Compliance is the supervisors' and ops' business, not the agents'.
ReportReader = Annotated[ApiPrincipal, require(Role.SUPERVISOR, Role.OPS)]

MAX_PERIOD = timedelta(days=366)
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

_errors: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (401, 403, 422)}
router = APIRouter(prefix="/reports", tags=["reports"], responses=_errors)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _figures(f: Figures) -> dict[str, Any]:
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


def _cell(c: Cell) -> SlaReportCell:
    return SlaReportCell(
        policy_version=c.policy_version,
        plan=c.plan,
        severity=c.severity,
        availability=c.availability,
        target=c.target,
        **_figures(c),
    )


def _out(report: SlaReport) -> SlaReportOut:
    return SlaReportOut(
        from_=report.start,
        to=report.end,
        timezone=report.timezone,
        active_policy_version=report.active_version,
        policy_versions=report.policy_versions,
        cells=[_cell(c) for c in report.cells],
        totals=SlaFigures(**_figures(report.totals)),
    )


def _csv_value(value: object) -> object:
    # Empty for "none" (no target, no answered case), microseconds for times, the
    # enums' own words for the rest: a spreadsheet reads each column as one type.
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return getattr(value, "value", value)


def _csv(out: SlaReportOut) -> str:
    """A header row, one row per cell, and a last row `total` for the whole period."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for cell in out.cells:
        row = cell.model_dump()
        writer.writerow([_csv_value(row[c]) for c in CSV_COLUMNS])
    totals = out.totals.model_dump() | {"policy_version": "", "plan": "total", "severity": ""}
    writer.writerow([_csv_value(totals.get(c)) for c in CSV_COLUMNS])
    return buffer.getvalue()


def _wants_csv(accept: str | None) -> bool:
    """CSV when the Accept header names text/csv (without q=0); JSON otherwise."""
    for item in (accept or "").split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        if media == "text/csv":
            quality = next((p[2:] for p in params if p.startswith("q=")), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def _check_period(start: datetime, end: datetime) -> None:
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise BadRequest(
                f"{name} needs a UTC offset (e.g. 2026-11-01T00:00:00+01:00 or ...Z)",
                errors=[{"field": f"query.{name}", "message": "missing UTC offset"}],
            )
    if start >= end:
        raise BadRequest(
            "from must be before to",
            errors=[{"field": "query.to", "message": "must be after from"}],
        )
    if end - start > MAX_PERIOD:
        raise BadRequest(
            "the period is at most 366 days",
            errors=[{"field": "query.to", "message": "at most 366 days after from"}],
        )


@router.get(
    "/sla",
    response_model=SlaReportOut,
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": ",".join(CSV_COLUMNS) + "\r\n",
                }
            },
            "description": "The report; CSV with a header row when `Accept: text/csv`",
        }
    },
)
async def sla_compliance(
    _: ReportReader,
    store: StoreDep,
    policy: PolicyDep,
    start: Annotated[
        datetime,
        Query(alias="from", description="first instant, ISO 8601 with offset (included)"),
    ],
    end: Annotated[
        datetime,
        Query(alias="to", description="end of the period, ISO 8601 with offset (excluded)"),
    ],
    accept: Annotated[str | None, Header()] = None,
) -> SlaReportOut | Response:
    """First-response compliance of the cases registered in [from, to), for each plan ×
    severity cell of each policy version involved, plus totals.

    A case counts in the cell of its current plan and severity, judged by the commitment
    it records (the policy version it was opened under). Times to first response run
    from registration: elapsed time in 24/7 cells, business time (the active policy's
    calendar) in business-hours cells. Every instant in the answer is UTC."""
    _check_period(start, end)
    out = _out(await sla_report(store.pool, policy, start, end))
    if not _wants_csv(accept):
        return out
    name = f"sla-{out.from_:%Y%m%dT%H%M%SZ}-{out.to:%Y%m%dT%H%M%SZ}.csv"
    return Response(
        _csv(out),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
