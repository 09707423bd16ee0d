"""The activity that mails the SLA report to the supervisors (built by
`core.report_mail`), with its input and result."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import UNDELIVERABLE
from core.db import Pool
from core.mail import (
    MailDeliveryError,
    Mailer,
    build_message,
)
from core.report_mail import compose, period, spell_period
from core.reports import sla_report
from core.settings import Settings
from workflows.sla import SlaPolicy


class ReportMailRequest(BaseModel):
    at: datetime  # when the Schedule fired (or the run started)
    day: date | None = None  # one local day instead of those before `at`


class ReportMailResult(BaseModel):
    start: datetime
    end: datetime
    to: str
    opened: int
    breached: int


class ReportMailer:
    def __init__(self, pool: Pool, mailer: Mailer, settings: Settings, policy: SlaPolicy):
        self.pool = pool
        self.mailer = mailer
        self.settings = settings
        self.policy = policy

    @activity.defn(name="mail_sla_report")
    async def mail_sla_report(self, req: ReportMailRequest) -> ReportMailResult:
        start, end = period(req.at, self.policy.timezone, req.day)
        report = await sla_report(self.pool, self.policy, start, end)
        to = self.settings.supervisors_email
        mail, csv_text, filename = compose(report, to, self.settings)
        msg = build_message(mail, self.settings.mail_from)
        msg.add_attachment(
            csv_text.encode("utf-8"), maintype="text", subtype="csv", filename=filename
        )
        try:
            await self.mailer.deliver(to, msg)
        except MailDeliveryError as exc:
            if exc.permanent:
                raise ApplicationError(str(exc), type=UNDELIVERABLE, non_retryable=True) from exc
            raise
        activity.logger.info("SLA report for %s mailed to %s", spell_period(start, end), to)
        return ReportMailResult(
            start=start,
            end=end,
            to=to,
            opened=report.totals.opened,
            breached=report.totals.breached,
        )
