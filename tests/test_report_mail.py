"""The daily SLA report mail: its period, its content, and the Schedule that sends it.

The content test runs cases of known timings through the real workflow, worker,
projection and PostgreSQL on a time-skipping server of its own, on a far-future
Wednesday no other test has cases on; the mail must say what GET /reports/sla says, its
CSV byte for byte. The Schedule test runs on the dev server (the time-skipping server
has no schedules) and triggers the Schedule as ops would from the UI.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from temporalio.client import ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

from api.workflow_gateway import open_case
from core.db import make_pool
from core.report_mail import period, spell_period, spell_seconds
from core.settings import Settings
from tests.builders import case_input, start_skipping_server
from tests.stack import ApiStack, Inbox, free_port
from worker.build import build_worker, report_activities
from worker.schedules import ensure_report_schedule
from workflows.domain import Plan, Severity
from workflows.report_mail import ReportMailInput, SlaReportMailWorkflow
from workflows.sla import load_policy

MADRID = ZoneInfo("Europe/Madrid")
POLICY = load_policy()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), MADRID)


@pytest.mark.parametrize(
    ("fired", "first", "end"),
    [
        (datetime(2026, 11, 24, 7, 0, tzinfo=UTC), date(2026, 11, 23), date(2026, 11, 24)),
        # Monday: Friday, Saturday and Sunday, so that every day is in one mail.
        (datetime(2026, 11, 23, 7, 0, tzinfo=UTC), date(2026, 11, 20), date(2026, 11, 23)),
        # 23:30 UTC on Monday is already Tuesday in Madrid.
        (datetime(2026, 11, 23, 23, 30, tzinfo=UTC), date(2026, 11, 23), date(2026, 11, 24)),
    ],
)
def test_the_period_is_the_local_days_before(fired: datetime, first: date, end: date) -> None:
    assert period(fired, "Europe/Madrid") == (local(first, 0), local(end, 0))


def test_a_named_day_and_a_short_dst_day() -> None:
    start, end = period(datetime(2030, 1, 1, tzinfo=UTC), "Europe/Madrid", date(2027, 3, 28))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)  # DST began
    assert spell_period(start, end) == "domingo 28 de marzo de 2027"
    start, end = period(datetime(2026, 11, 23, 7, tzinfo=UTC), "Europe/Madrid")
    assert spell_period(start, end) == (
        "del viernes 20 de noviembre de 2026 al domingo 22 de noviembre de 2026"
    )


def test_durations_in_words() -> None:
    assert spell_seconds(None) == "—"
    assert spell_seconds(timedelta(seconds=45)) == "45 s"
    assert spell_seconds(timedelta(minutes=12, seconds=30)) == "12 min 30 s"
    assert spell_seconds(timedelta(hours=1, minutes=5, seconds=20)) == "1 h 05 min"


# --- The mail, from cases of known timings ---


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_skipping_server()
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
def stack_env(env: WorkflowEnvironment) -> WorkflowEnvironment:
    """This module's `stack` runs on its own time-skipping server."""
    return env


async def api_report(stack: ApiStack, day: date, csv: bool = False) -> Any:
    params = {"from": local(day, 0).isoformat(), "to": local(day + timedelta(1), 0).isoformat()}
    headers = stack.auth("key-ops") | ({"Accept": "text/csv"} if csv else {})
    r = await stack.http.get("/reports/sla", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.text if csv else r.json()


async def empty_wednesday(stack: ApiStack) -> date:
    rng = random.Random()
    for _ in range(20):
        day = date(rng.randrange(2150, 2199), rng.randrange(1, 13), 1)
        day += timedelta(days=(2 - day.weekday()) % 7 + 7 * rng.randrange(3))
        if (await api_report(stack, day))["totals"]["opened"] == 0:
            return day
    raise AssertionError("no free Wednesday found")


def parts(msg: EmailMessage) -> tuple[str, str, tuple[str, str]]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None
    assert html is not None
    attachments = list(msg.iter_attachments())
    assert len(attachments) == 1
    data = attachments[0].get_payload(decode=True)
    assert isinstance(data, bytes)
    return (
        text.get_content(),
        html.get_content(),
        (attachments[0].get_filename() or "", data.decode()),
    )


async def test_the_mail_says_what_the_report_says(
    env: WorkflowEnvironment, stack: ApiStack, migrated_db: str
) -> None:
    wednesday = await empty_wednesday(stack)
    await env.sleep(local(wednesday, 10) - await env.get_current_time())
    queue, wait = stack.settings.temporal_task_queue, timedelta(seconds=20)
    opened = {}
    for name, plan, severity in (
        ("met", Plan.PREMIUM, Severity.A),
        ("breached", Plan.PREMIUM, Severity.A),
        ("free", Plan.BASICO, Severity.C),
    ):
        inp = case_input(plan, severity, registered_at=local(wednesday, 10))
        assert await open_case(env.client, queue, inp, wait) is not None
        opened[name] = inp.case_id
    await env.sleep(timedelta(minutes=20))
    r = await stack.act(opened["met"], "contacts", {"channel": "phone", "outcome": "reached"})
    assert r.status_code == 200, r.text
    await env.sleep(timedelta(minutes=45))  # past the other premium case's deadline
    for case_id in opened.values():
        await stack.projected(case_id)
    report = await api_report(stack, wednesday)
    assert (report["totals"]["met"], report["totals"]["breached"]) == (1, 1)

    # Thursday 08:00: the schedule's hour; the run reports the day before.
    await env.sleep(local(wednesday + timedelta(1), 8) - await env.get_current_time())
    mail_queue = f"report-{uuid.uuid4()}"
    async with make_pool(migrated_db) as pool:
        acts = report_activities(pool, stack.settings, POLICY)
        async with build_worker(env.client, mail_queue, acts):
            result = await env.client.execute_workflow(
                SlaReportMailWorkflow.run,
                ReportMailInput(),
                id=f"sla-report-{uuid.uuid4()}",
                task_queue=mail_queue,
            )
    assert (result.start, result.end) == (local(wednesday, 0), local(wednesday + timedelta(1), 0))
    assert (result.opened, result.breached) == (3, 1)

    when = spell_period(result.start, result.end)
    msg = await stack.inbox.wait_for(stack.settings.supervisors_email, when)
    assert str(msg["Subject"]) == f"Informe de SLA de amger:pro: {when}"
    assert when.startswith("miércoles")
    text, html, (filename, csv_text) = parts(msg)
    assert "Casos registrados: 3" in text
    assert "cumplidos 1, incumplidos 1" in text
    assert "Cumplimiento: 50,0 %" in text
    assert '<th scope="col" style="padding:6px;">Plan</th>' in html
    assert "Administración Premium" in html
    # The met case's first response, to the second: 20 minutes of skipped time plus the
    # real time the test took between the intake and the contact.
    met = (await stack.http.get(f"/cases/{opened['met']}", headers=stack.auth("key-ops"))).json()
    took = datetime.fromisoformat(met["sla"]["responded_at"]) - local(wednesday, 10)
    assert timedelta(minutes=20) <= took < timedelta(minutes=21)
    assert spell_seconds(took) in html
    assert filename == f"informe-sla-{wednesday:%Y-%m-%d}.csv"
    assert csv_text == await api_report(stack, wednesday, csv=True)


# --- The Schedule, on the dev server ---


async def test_the_schedule_runs_working_days_at_eight_keeps_a_pause_and_can_be_triggered(
    local_env: WorkflowEnvironment, migrated_db: str
) -> None:
    client, queue = local_env.client, f"report-{uuid.uuid4()}"
    schedule_id = f"sla-report-mail-{uuid.uuid4().hex[:8]}"
    assert await ensure_report_schedule(client, queue, "Europe/Madrid", schedule_id) == "created"
    handle = client.get_schedule_handle(schedule_id)
    try:
        described = (await handle.describe()).schedule
        calendar = described.spec.calendars[0]
        assert described.spec.time_zone_name == "Europe/Madrid"
        assert [(r.start, r.end) for r in calendar.day_of_week] == [(1, 5)]
        assert [(r.start, r.end) for r in calendar.hour] == [(8, 8)]
        assert [(r.start, r.end) for r in calendar.minute] == [(0, 0)]
        assert described.policy.overlap == ScheduleOverlapPolicy.SKIP
        # Ops paused it; the next `make run` updates it and leaves it paused.
        await handle.pause(note="vacaciones")
        assert await ensure_report_schedule(client, queue, "Europe/Madrid", schedule_id) == (
            "updated"
        )
        state = (await handle.describe()).schedule.state
        assert (state.paused, state.note) == (True, "vacaciones")
        await handle.unpause()

        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
        smtp.start()
        settings = Settings(
            smtp_host="127.0.0.1", smtp_port=smtp.port, supervisors_email="sup@example.com"
        )
        try:
            async with make_pool(migrated_db) as pool:
                acts = report_activities(pool, settings, POLICY)
                async with build_worker(client, queue, acts):
                    await handle.trigger()  # the UI's "Trigger"
                    msg = await inbox.wait_for("sup@example.com", "Informe de SLA")
        finally:
            smtp.stop()
        start, end = period(datetime.now(UTC), "Europe/Madrid")
        assert spell_period(start, end) in str(msg["Subject"])
        assert [a.get_content_type() for a in msg.iter_attachments()] == ["text/csv"]
        runs = (await handle.describe()).info.recent_actions
        assert len(runs) == 1
    finally:
        await handle.delete()
