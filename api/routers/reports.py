"""/reports/sla: whether amger:pro keeps its commitments, cell by cell, as JSON or CSV."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api.deps import PolicyDep, StoreDep, require
from api.errors import BadRequest
from api.principals import ApiPrincipal, Role
from api.responses import READ, errors
from api.schemas import Rfc3339, SlaFigures, SlaReportCell, SlaReportOut
from core.reports import CSV_COLUMNS, Cell, SlaReport, figures, report_csv, sla_report

# Compliance is the supervisors' and ops' business, not the agents'.
ReportReader = Annotated[ApiPrincipal, require(Role.SUPERVISOR, Role.OPS)]

MAX_PERIOD = timedelta(days=366)

router = APIRouter(prefix="/reports", tags=["reports"], responses=errors(*READ))


def _cell(c: Cell) -> SlaReportCell:
    return SlaReportCell(
        policy_version=c.policy_version,
        plan=c.plan,
        severity=c.severity,
        availability=c.availability,
        target=c.target,
        **figures(c),
    )


def _out(report: SlaReport) -> SlaReportOut:
    return SlaReportOut(
        from_=report.start,
        to=report.end,
        timezone=report.timezone,
        active_policy_version=report.active_version,
        policy_versions=report.policy_versions,
        cells=[_cell(c) for c in report.cells],
        totals=SlaFigures(**figures(report.totals)),
    )


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
        Rfc3339,
        Query(alias="from", description="first instant, ISO 8601 with offset (included)"),
    ],
    end: Annotated[
        Rfc3339,
        Query(alias="to", description="end of the period, ISO 8601 with offset (excluded)"),
    ],
    accept: Annotated[str | None, Header()] = None,
) -> SlaReportOut | Response:
    """First-response compliance of the cases registered in [from, to), for each plan ×
    severity cell of each policy version involved, plus totals.

    A case counts in the cell of its current plan and severity, judged by the commitment
    it records (the policy version it was opened under). Times to first response run
    from registration: elapsed time in 24/7 cells, business time (the active policy's
    calendar) in business-hours cells. Every instant in the answer is UTC.

    `from` must be before `to`, at most 366 days apart (a rule between the two that the
    schema cannot state): otherwise 422."""
    _check_period(start, end)
    report = await sla_report(store.pool, policy, start, end)
    out = _out(report)
    if not _wants_csv(accept):
        return out
    name = f"sla-{out.from_:%Y%m%dT%H%M%SZ}-{out.to:%Y%m%dT%H%M%SZ}.csv"
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
