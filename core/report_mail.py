"""The SLA report mail to the supervisors: a Spanish email with the table in HTML and
the CSV of `GET /reports/sla` attached (`core.reports.report_csv`, the API's own, so a
spreadsheet made for one reads the other).

The period is the local days (the policy's zone, Europe/Madrid) before the instant the
Schedule fired: the day before, and on a Monday Friday to Sunday, so that every day is
in exactly one mail of a Monday-to-Friday schedule. A run may also name one day.
The activity that sends it is `activities.report_mail`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import jinja2

from core.labels import AVAILABILITY_LABELS, DAYS, MONTHS, PLAN_LABELS, TARGET_LABELS
from core.mail import TEMPLATES_DIR, OutgoingMail, add_filters
from core.reports import Figures, SlaReport, report_csv
from core.settings import Settings


def period(at: datetime, tz: str, day: date | None = None) -> tuple[datetime, datetime]:
    """[first local midnight, last local midnight) of the days the mail reports."""
    zone = ZoneInfo(tz)
    if day is not None:
        first, end = day, day + timedelta(days=1)
    else:
        end = at.astimezone(zone).date()
        first = end - timedelta(days=3 if end.weekday() == 0 else 1)
    return datetime.combine(first, time(0), zone), datetime.combine(end, time(0), zone)


def spell_day(day: date) -> str:
    return f"{DAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]} de {day.year}"


def spell_period(start: datetime, end: datetime) -> str:
    """`martes 24 de noviembre de 2026`, or `del viernes 20 al domingo 22 de …`."""
    last = (end - timedelta(days=1)).date()
    if last == start.date():
        return spell_day(last)
    return f"del {spell_day(start.date())} al {spell_day(last)}"


def spell_seconds(value: timedelta | None) -> str:
    """`1 h 05 min`, `12 min 30 s`, `45 s`; a dash when no case had a response."""
    if value is None:
        return "—"
    seconds = round(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _rate(f: Figures) -> str:
    """Met over those judged (met + breached): pending cases are not judged yet."""
    judged = f.met + f.breached
    return "—" if not judged else f"{100 * f.met / judged:.1f} %".replace(".", ",")


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    add_filters(env)
    env.filters.update(
        duration=spell_seconds,
        rate=_rate,
        availability=lambda v: AVAILABILITY_LABELS.get(str(getattr(v, "value", v)), "—"),
        target=lambda v: TARGET_LABELS.get(str(v), str(v)) if v else "Sin compromiso",
        plan_name=lambda v: PLAN_LABELS.get(str(getattr(v, "value", v)), str(v)),
    )
    return env


def compose(report: SlaReport, to: str, settings: Settings) -> tuple[OutgoingMail, str, str]:
    """(the mail, the CSV, its file name)."""
    when = spell_period(report.start, report.end)
    first, last = report.start.date(), (report.end - timedelta(days=1)).date()
    context = {
        "when": when,
        "report": report,
        # The active policy's twelve cells (the seed's table), then older versions' cells
        # with cases: as the API lists them.
        "cells": report.cells,
        "totals": report.totals,
        "api_url": settings.api_base_url,
        "older": [v for v in report.policy_versions if v != report.active_version],
    }
    env = _templates()
    text = env.get_template("sla_report.txt").render(context)
    html = env.get_template("sla_report.html").render(context)
    suffix = f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d}_{last:%Y-%m-%d}"
    mail = OutgoingMail(
        # The same period always has the same Message-ID: a retried send is one message.
        message_id=f"sla-report-{suffix}",
        to=to,
        subject=f"Informe de SLA de amger:pro: {when}",
        text=text,
        html=html,
    )
    return mail, report_csv(report), f"informe-sla-{suffix}.csv"
