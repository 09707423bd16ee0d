"""The Temporal Schedule that mails the SLA report: every working day at 08:00 in the
policy's zone (Europe/Madrid), Monday to Friday, a run at a time.

`make run` creates or updates it at start (`worker.dev`); `python -m worker.schedules`
does the same for a deployment. An update rewrites when and what it runs, and keeps
what ops decided in the Temporal UI: a paused schedule stays paused, with its note.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.logs import configure as configure_logging
from core.settings import Settings
from core.temporal import connect
from workflows.report_mail import ReportMailInput, SlaReportMailWorkflow
from workflows.sla import load_policy

SCHEDULE_ID = "sla-report-mail"
log = logging.getLogger("worker.schedules")


def report_schedule(task_queue: str, timezone: str, workflow_id: str = SCHEDULE_ID) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SlaReportMailWorkflow.run,
            ReportMailInput(),
            id=workflow_id,  # each run's id is this plus the instant it was due
            task_queue=task_queue,
            static_summary="Informe de SLA del día anterior a supervisores",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_week=[ScheduleRange(1, 5)],  # 0 is Sunday
                    hour=[ScheduleRange(8)],
                    comment="laborables (lunes a viernes) a las 8:00",
                )
            ],
            time_zone_name=timezone,
        ),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            # Temporal down at 08:00: a run within the morning still helps; a week-old
            # backlog of mails would not.
            catchup_window=timedelta(hours=6),
        ),
        state=ScheduleState(
            note="Pausar aquí detiene el correo diario; «Trigger» lo envía ahora con el "
            "informe del día anterior."
        ),
    )


async def ensure_report_schedule(
    client: Client, task_queue: str, timezone: str, schedule_id: str = SCHEDULE_ID
) -> str:
    """Create the schedule, or bring an existing one up to date; "created" or "updated"."""
    wanted = report_schedule(task_queue, timezone, schedule_id)
    try:
        await client.create_schedule(schedule_id, wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass

    def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
        wanted.state = current.description.schedule.state
        return ScheduleUpdate(schedule=wanted)

    await client.get_schedule_handle(schedule_id).update(keep_state)
    return "updated"


async def _main(settings: Settings) -> None:
    policy = load_policy(settings.sla_policy_file, settings.sla_holidays_file)
    client = await connect(settings)
    done = await ensure_report_schedule(client, settings.temporal_task_queue, policy.timezone)
    log.info("schedule %s %s", SCHEDULE_ID, done)


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
