"""The clock never waits: deadlines and actions whatever PostgreSQL and mail do.

Time-skipping tests with recorders that fail the way the outside world does: forever
(PostgreSQL or the mail server down), for good (data refused, a message that cannot be
built) or for a while (a transient failure that recovers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.errors import PROJECTION_REJECTED, UNBUILDABLE
from tests.builders import REACHED, Recorder, workflow_case
from workflows.case import CaseWorkflow
from workflows.domain import SlaState
from workflows.messages import CustomerMail, ProjectionBatch, TeamNotification
from workflows.models import (
    ResolutionMethod,
    Resolve,
)

MINUTE = timedelta(minutes=1)


async def skip(env: WorkflowEnvironment, span: timedelta, step: timedelta = MINUTE) -> None:
    """Skips time in steps: with activities failing and retrying, one long skip outlasts
    the test server's RPC deadline."""
    while span > timedelta(0):
        await env.sleep(min(step, span))
        span -= step


RESOLVED = Resolve(actor="ana", methods=[ResolutionMethod.PHONE], summary="Funciona")


@dataclass
class Down(Recorder):
    """PostgreSQL and the customer's mail are down for the whole test; team mail works."""

    attempts: list[str] = field(default_factory=list)

    @activity.defn(name="project_case")
    async def project(self, batch: ProjectionBatch) -> None:
        self.attempts.append("project")
        raise RuntimeError("connection refused (PostgreSQL is down)")

    @activity.defn(name="send_customer_mail")
    async def send_customer_mail(self, mail: CustomerMail) -> None:
        self.attempts.append("mail")
        raise RuntimeError("connection refused (the mail server is down)")


async def test_warning_and_breach_on_time_while_postgresql_and_mail_are_down(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    down = Down()
    async with workflow_case(skipping_env, task_queue, rec=down) as case:
        await skip(skipping_env, 61 * MINUTE)
        state = await case.state()
        # Actions are still taken and answered from the workflow.
        after = await case.update(CaseWorkflow.log_contact, REACHED)
    registered = case.registered_at
    assert state.sla.warned_at is not None
    assert state.sla.warned_at - registered <= 45 * MINUTE + timedelta(seconds=1)
    assert state.sla.state is SlaState.BREACHED
    assert state.sla.breached_at is not None
    assert state.sla.breached_at - registered <= 60 * MINUTE + timedelta(seconds=1)
    assert after.sla.state is SlaState.BREACHED  # a breach is final
    assert len(after.contacts) == 1
    # The alerts went out by the team lane although nothing else could be delivered.
    assert case.team[:3] == ["case_queued", "sla_warning", "sla_breached"]
    assert "project" in down.attempts
    assert "mail" in down.attempts


@dataclass
class Refusing(Recorder):
    """PostgreSQL refuses the first batch's data; the acknowledgement cannot be built."""

    refused: int = 0

    @activity.defn(name="project_case")
    async def project(self, batch: ProjectionBatch) -> None:
        if self.refused == 0:
            self.refused += 1
            raise ApplicationError(
                "PostgreSQL refused the data", type=PROJECTION_REJECTED, non_retryable=True
            )
        await super().project(batch)

    @activity.defn(name="send_customer_mail")
    async def send_customer_mail(self, mail: CustomerMail) -> None:
        raise ApplicationError("bad address", type=UNBUILDABLE, non_retryable=True)


async def test_data_errors_are_recorded_on_the_case_not_retried(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    refusing = Refusing()
    async with workflow_case(skipping_env, task_queue, rec=refusing):
        await skipping_env.sleep(timedelta(seconds=5))
    assert refusing.refused == 1
    types = refusing.event_types
    assert "projection_rejected" in types
    assert "message_undeliverable" in types
    kinds = [n.kind for n in refusing.team]
    assert "projection_rejected" in kinds
    assert "message_undeliverable" in kinds
    undeliverable = next(e for e in refusing.events if e.type == "message_undeliverable")
    assert "bad address" in undeliverable.data["reason"]


@dataclass
class Flaky(Recorder):
    """The mail server fails twice, then comes back."""

    failures: int = 2

    @activity.defn(name="send_team_notice")
    async def send_team_notice(self, note: TeamNotification) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("421 try again later")
        await super().send_team_notice(note)


async def test_a_transient_failure_is_retried_until_it_recovers(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    flaky = Flaky()
    async with workflow_case(skipping_env, task_queue, rec=flaky):
        await skipping_env.sleep(MINUTE)
    assert flaky.failures == 0
    assert [n.kind for n in flaky.team] == ["case_queued"]
    assert "message_undeliverable" not in flaky.event_types


@dataclass
class MailDown(Recorder):
    """The customer's mail server is down for the whole test."""

    @activity.defn(name="send_customer_mail")
    async def send_customer_mail(self, mail: CustomerMail) -> None:
        raise RuntimeError("connection refused (the mail server is down)")


async def test_messages_past_their_budget_are_undeliverable_and_the_agents_are_told(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, rec=MailDown()) as case:
        await case.update(CaseWorkflow.log_contact, REACHED)
        await case.update(CaseWorkflow.resolve, RESOLVED)  # a second mail, queued behind
        # Past the 24 h budget of both: it counts from when each was queued, so the
        # resolution does not get a fresh day once the acknowledgement gives up.
        await skip(skipping_env, timedelta(hours=25), step=timedelta(minutes=30))
    failures = [n.message for n in case.rec.team if n.kind == "message_undeliverable"]
    assert len(failures) == 2
    assert "acknowledgement" in failures[0]
    assert "resolution" in failures[1]
