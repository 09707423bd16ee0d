"""SlaReportMail: mails the supervisors the SLA report of the days before it runs.

Started by a Temporal Schedule every working day at 08:00, Europe/Madrid
(`worker.schedules`); ops pause it or run it now from the Temporal UI. One activity does
the work: the workflow only says which instant the report is for, the one the Schedule
fired at (a run started late, after an outage, still reports the same days).
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from activities.report_mail import ReportMailer, ReportMailRequest, ReportMailResult

# Set by Temporal on each workflow a Schedule starts: the instant it was due.
SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
# A mail server that is down gets the morning to come back; then the run fails, visibly.
_BUDGET = timedelta(hours=6)
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=10), maximum_interval=timedelta(minutes=5))


class ReportMailInput(BaseModel):
    """What a run reports on: by default the days before its scheduled instant; `day` reports one
    local day instead (a manual run, e.g. to resend a day the mail server lost).
    """

    day: date | None = None  # one local day instead of those before the scheduled instant


@workflow.defn(name="SlaReportMail")
class SlaReportMailWorkflow:
    """A workflow rather than a cron job, so ops see every run, its retries and its failure in
    the Temporal UI; the work itself is one activity.
    """

    @workflow.run
    async def run(self, inp: ReportMailInput) -> ReportMailResult:
        """Report for `TemporalScheduledStartTime`, so a run started late after an outage still
        covers the same days; a run started by hand falls back to its own start time.
        """
        info = workflow.info()
        at = info.typed_search_attributes.get(SCHEDULED_AT) or info.workflow_start_time
        return await workflow.execute_activity_method(
            ReportMailer.mail_sla_report,
            ReportMailRequest(at=at, day=inp.day),
            schedule_to_close_timeout=_BUDGET,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=_RETRY,
            summary="Informe de SLA a supervisores",
        )
