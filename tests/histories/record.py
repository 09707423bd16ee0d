"""Records one history per path of the case workflow with the code as it is:
`python -m tests.histories.record v2` writes `tests/histories/v2-<path>.json`.

Run it before changing what the workflow schedules, and commit the files: they stand
for the cases open when the change is deployed, and `tests/test_replay.py` replays
every file under `tests/histories/` against the workflow in CI. The `v1-*` files were
recorded by this script as it was at commit f281403, with version 1 of the workflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.workflow_gateway import send_update
from core.temporal import register_search_attributes
from tests.builders import (
    CONSENT_SECRET,
    Recorder,
    case_input,
    customer_decision,
    start,
    start_dev_server,
)
from worker.dev import BIN
from workflows import consent
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity
from workflows.models import (
    Cancel,
    ChangePlan,
    ChangeSeverity,
    Close,
    ContactChannel,
    ContactOutcome,
    EndRemoteSession,
    LogContact,
    RemoteAccessKind,
    Reopen,
    RequestRemoteAccess,
    ResolutionMethod,
    Resolve,
    StartRemoteSession,
)

HERE = Path(__file__).parent
Handle = WorkflowHandle[Any, Any]
REACHED = LogContact(actor="ana", channel=ContactChannel.PHONE, outcome=ContactOutcome.REACHED)
NO_ANSWER = LogContact(
    actor="ana", channel=ContactChannel.PHONE, outcome=ContactOutcome.NO_ANSWER, note="buzón"
)
EMAIL = LogContact(actor="ana", channel=ContactChannel.EMAIL, outcome=ContactOutcome.SENT)
ASK = RequestRemoteAccess(actor="ana", reason="Revisar Outlook", access=RemoteAccessKind.CONTROL)
END = EndRemoteSession(actor="ana", outcome="completed", summary="Perfil reparado")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
WAIT = timedelta(seconds=10)


def resolve(*methods: ResolutionMethod) -> Resolve:
    return Resolve(actor="ana", methods=list(methods), summary="Funciona de nuevo")


async def decide(handle: Handle, decision: Any) -> None:
    auth = (await handle.query(CaseWorkflow.state)).authorization
    assert auth is not None
    request_id = f"{auth.request_id}:{decision}"
    cmd = customer_decision(handle.id, auth.request_id, decision, request_id)
    await handle.execute_update(CaseWorkflow.decide_remote_access, cmd)


async def phone(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, NO_ANSWER)
    await h.execute_update(
        CaseWorkflow.log_contact, REACHED.model_copy(update={"request_id": "r1"})
    )
    await h.execute_update(
        CaseWorkflow.log_contact, REACHED.model_copy(update={"request_id": "r1"})
    )
    await h.execute_update(CaseWorkflow.resolve, resolve(ResolutionMethod.PHONE))
    await h.execute_update(CaseWorkflow.close, Close(actor="ana"))


async def remote_authorized(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, EMAIL)
    await h.execute_update(CaseWorkflow.request_remote_access, ASK)
    await decide(h, "authorized")
    await h.execute_update(CaseWorkflow.start_remote_session, StartRemoteSession(actor="ana"))
    await h.execute_update(CaseWorkflow.end_remote_session, END)
    await h.execute_update(CaseWorkflow.resolve, resolve(ResolutionMethod.REMOTE))
    await h.execute_update(CaseWorkflow.close, Close(actor="ana"))


async def remote_rejected(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, REACHED)
    await h.execute_update(CaseWorkflow.request_remote_access, ASK)
    await decide(h, "rejected")
    await h.execute_update(CaseWorkflow.cancel, Cancel(actor="ana", reason="sin acceso"))


async def remote_expired(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, EMAIL)
    await h.execute_update(CaseWorkflow.request_remote_access, ASK)
    await env.sleep(25 * HOUR)
    await h.execute_update(CaseWorkflow.cancel, Cancel(actor="ana", reason="sin respuesta"))


async def remote_revoked(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, EMAIL)
    await h.execute_update(CaseWorkflow.request_remote_access, ASK)
    await decide(h, "authorized")
    await h.execute_update(CaseWorkflow.start_remote_session, StartRemoteSession(actor="ana"))
    await decide(h, "revoked")
    await h.execute_update(CaseWorkflow.cancel, Cancel(actor="ana", reason="revocado"))


async def remote_access_ends(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, EMAIL)
    await h.execute_update(CaseWorkflow.request_remote_access, ASK)
    await decide(h, "authorized")
    await h.execute_update(CaseWorkflow.start_remote_session, StartRemoteSession(actor="ana"))
    await env.sleep(9 * HOUR)
    await h.execute_update(CaseWorkflow.resolve, resolve(ResolutionMethod.REMOTE))
    await env.sleep(6 * DAY)


async def reclassified(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(
        CaseWorkflow.change_severity,
        ChangeSeverity(actor="sofia", severity=Severity.C, reason="solo un usuario"),
    )
    await h.execute_update(
        CaseWorkflow.change_plan, ChangePlan(actor="sofia", plan=Plan.FREE, reason="contrato")
    )
    await env.sleep(3 * DAY)
    await h.execute_update(CaseWorkflow.cancel, Cancel(actor="ana", reason="duplicado"))


async def breached(env: WorkflowEnvironment, h: Handle) -> None:
    await env.sleep(2 * HOUR)
    await h.execute_update(CaseWorkflow.log_contact, REACHED)
    await h.execute_update(CaseWorkflow.cancel, Cancel(actor="ana", reason="tarde"))


async def reopened(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, REACHED)
    await h.execute_update(CaseWorkflow.resolve, resolve(ResolutionMethod.PHONE))
    await h.execute_update(CaseWorkflow.reopen, Reopen(actor="ana", reason="vuelve a fallar"))
    await h.execute_update(CaseWorkflow.resolve, resolve(ResolutionMethod.PHONE))
    await h.execute_update(CaseWorkflow.close, Close(actor="ana"))


async def auto_closed(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.log_contact, REACHED)
    await h.execute_update(CaseWorkflow.resolve, resolve(ResolutionMethod.PHONE))
    await env.sleep(6 * DAY)


async def cancelled(env: WorkflowEnvironment, h: Handle) -> None:
    await h.execute_update(CaseWorkflow.cancel, Cancel(actor="ana", reason="abierto por error"))


Path_ = Callable[[WorkflowEnvironment, Handle], Awaitable[None]]
SKIPPING: dict[str, tuple[Plan, Severity, Path_]] = {
    "phone": (Plan.PREMIUM, Severity.A, phone),
    "remote-authorized": (Plan.PREMIUM, Severity.A, remote_authorized),
    "remote-rejected": (Plan.ESTANDAR, Severity.B, remote_rejected),
    "remote-expired": (Plan.PREMIUM, Severity.C, remote_expired),
    "remote-revoked": (Plan.PREMIUM, Severity.A, remote_revoked),
    "remote-access-ends-then-auto-closed": (Plan.BASICO, Severity.B, remote_access_ends),
    "reclassified": (Plan.PREMIUM, Severity.A, reclassified),
    "breached": (Plan.PREMIUM, Severity.A, breached),
    "reopened": (Plan.ESTANDAR, Severity.C, reopened),
    "auto-closed": (Plan.FREE, Severity.B, auto_closed),
    "cancelled": (Plan.FREE, Severity.C, cancelled),
}


async def save(name: str, client: Client, workflow_id: str, run_id: str | None = None) -> None:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    path = HERE / f"{VERSION[0]}-{name}.json"
    path.write_text(json.dumps(history.to_json_dict(), indent=None) + "\n", encoding="utf-8")
    print(f"{path.name}: {len(history.events)} events")


async def record_skipping() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await register_search_attributes(env.client, env.client.namespace)
    try:
        for name, (plan, severity, drive) in SKIPPING.items():
            rec = Recorder()
            async with rec.worker(env, f"record-{name}"):
                now = await env.get_current_time()
                handle = await start(
                    env.client, f"record-{name}", case_input(plan, severity, registered_at=now)
                )
                await drive(env, handle)
                await env.sleep(timedelta(seconds=5))
                await save(name, env.client, handle.id)
                with contextlib.suppress(RPCError):  # still open: stop its timers
                    await handle.terminate("recorded")
    finally:
        await env.shutdown()


async def record_continued_as_new() -> None:
    env = await start_dev_server(
        "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60"
    )
    try:
        rec = Recorder()
        async with rec.worker(env.client, "record-can"):
            handle = await start(
                env.client, "record-can", case_input(registered_at=datetime.now(UTC))
            )
            first = (await handle.describe()).run_id
            for i in range(20):
                cmd = NO_ANSWER.model_copy(update={"request_id": f"call-{i}"})
                # The API's path: it retries while the workflow continues as new.
                await send_update(env.client, handle.id, CaseWorkflow.log_contact, cmd, WAIT)
            await asyncio.sleep(1)
            await save("continued-as-new-first-run", env.client, handle.id, first)
            latest = env.client.get_workflow_handle(handle.id)
            await send_update(env.client, handle.id, CaseWorkflow.log_contact, REACHED, WAIT)
            await asyncio.sleep(1)
            await save("continued-as-new-second-run", env.client, handle.id)
            with contextlib.suppress(RPCError):
                await latest.terminate("recorded")
    finally:
        await env.shutdown()


VERSION = ["v2"]


async def main() -> None:
    consent.configure(CONSENT_SECRET)
    await record_skipping()
    await record_continued_as_new()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tests.histories.record <version, e.g. v3>")
    VERSION[0] = sys.argv[1]
    asyncio.run(main())
