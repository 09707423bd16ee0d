"""Scale-out with a fault: two worker processes (`python -m worker`) and two API
processes (uvicorn `api.main:app`) on one Temporal dev server and one PostgreSQL, as
docker-compose.yml runs replicas. 100 cases go through their lifecycle over HTTP, each
step through one API or the other (a fifth of them through remote access: the
customer's link from the mail, a session, a remote resolution), and one worker is
killed with SIGKILL while cases are mid-lifecycle.

Clients behave as the README tells them to: an intake carries an `Idempotency-Key`, an
action a `request_id`, and both are retried on 503 or a lost connection (a retried
action is answered, not applied twice). Every case must then complete (its workflow
closes), and PostgreSQL's event log must hold each expected event exactly once per
case, as the workflows have them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from psycopg import AsyncConnection
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.builders import customer_body, intake_body
from tests.processes import (
    PHONE_LIFECYCLE,
    Child,
    Processes,
    app_env,
    free_port,
    poll,
    processes,
    ready_api,
)
from tests.stack import Inbox
from workflows.case import CaseWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

CASES = 100
REMOTE_EVERY = 5  # every fifth case goes through remote access
CLIENTS = 12  # cases driven at once
KILL_AFTER_CLOSED = 30  # worker A is killed once this many cases are closed
# A step waits for what it needs for at most this long: a mail whose activity was
# running on the killed worker is retried after its 60 s start-to-close timeout.
STEP_BOUND = 120.0
DRIVE_BOUND = 200.0

AGENT = {"Authorization": "Bearer key-ana"}
OPS = {"Authorization": "Bearer key-ops"}
CONTACT_CENTER = {"Authorization": "Bearer key-centralita"}

REMOTE_EVENTS = Counter(
    {
        "case_registered": 1,
        "case_queued": 1,
        "contact_logged": 1,
        "first_response": 1,
        "stage_changed": 5,
        "remote_access_requested": 1,
        "remote_access_authorized": 1,
        "remote_session_started": 1,
        "remote_session_ended": 1,
        "remote_access_superseded": 1,  # by the resolution
        "case_resolved": 1,
        "case_closed": 1,
    }
)


@dataclass
class Cluster:
    apis: list[httpx.AsyncClient]
    workers: list[Child]
    procs: Processes
    inbox: Inbox
    base_url: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    closed: list[str] = field(default_factory=list)
    started: dict[str, bool] = field(default_factory=dict)  # case id -> remote path
    retries: Counter[str] = field(default_factory=Counter)

    def api(self, n: int) -> httpx.AsyncClient:
        return self.apis[n % len(self.apis)]

    async def send(self, n: int, what: str, method: str, path: str, **kw: Any) -> httpx.Response:
        """One request, retried (on the other API too) while it gets 503 or no answer."""
        deadline = time.monotonic() + STEP_BOUND
        while True:
            try:
                r = await self.api(n).request(method, path, timeout=30, **kw)
                if r.status_code != 503:
                    return r
                self.retries["503"] += 1
            except httpx.TransportError:
                self.retries["transport"] += 1
            n += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: no answer but 503 within {STEP_BOUND:.0f} s")
            await asyncio.sleep(0.5)

    async def intake(self, i: int) -> str:
        body = intake_body(
            customer=customer_body(id=f"C-{i}", email=self.email(i)),
            severity="B",
            severity_reason="un usuario sin correo",
            summary=f"Caso de carga {i}",
        )
        headers = CONTACT_CENTER | {"Idempotency-Key": f"scale-{self.run}-{i}"}
        r = await self.send(i, f"intake {i}", "POST", "/cases", json=body, headers=headers)
        assert r.status_code in (201, 202), r.text
        case_id: str = r.json()["case_id"]
        return case_id

    def email(self, i: int) -> str:
        return f"cliente-{self.run}-{i}@example.com"

    async def act(self, n: int, case_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        what = f"{path} on {case_id}"
        body = body | {"request_id": f"{path.replace('/', '.')}-{case_id}"}
        deadline = time.monotonic() + STEP_BOUND
        while True:
            r = await self.send(
                n, what, "POST", f"/cases/{case_id}/{path}", json=body, headers=AGENT
            )
            # An intake answered 202 is registered as soon as a worker takes it.
            if r.status_code == 409 and r.json().get("stage") == "registro":
                assert time.monotonic() < deadline, f"{what}: still not registered"
                await asyncio.sleep(0.5)
                continue
            assert r.status_code == 200, f"{what}: {r.status_code} {r.text}"
            answer: dict[str, Any] = r.json()
            return answer

    async def authorize(self, n: int, i: int, case_id: str) -> None:
        """The customer follows the link in the mail and authorizes, on either API."""
        link = re.compile(re.escape(self.base_url) + r"(/autorizacion/[A-Za-z0-9_-]+)")

        async def mailed() -> str | None:
            for m in self.inbox.to(self.email(i)):
                part = m.get_body(preferencelist=("plain",))
                found = link.search(part.get_content() if part is not None else "")
                if found is not None:
                    return found.group(1)
            return None

        path = await poll(mailed, STEP_BOUND, f"the authorization mail of {case_id}", 0.2)
        form = {"content-type": "application/x-www-form-urlencoded"}

        async def authorized() -> bool:
            r = await self.send(
                n, f"authorize {case_id}", "POST", path, content="decision=autorizar", headers=form
            )
            assert r.status_code in (200, 303), f"authorize {case_id}: {r.status_code}"
            case = await self.send(
                n + 1, f"read {case_id}", "GET", f"/cases/{case_id}", headers=OPS
            )
            return bool(case.json()["authorizations"][-1]["status"] == "granted")

        await poll(authorized, STEP_BOUND, f"{case_id} authorized by its customer", 1.0)

    async def lifecycle(self, i: int) -> None:
        case_id = await self.intake(i)
        remote = i % REMOTE_EVERY == 0
        self.started[case_id] = remote
        n = i + 1  # each next step through the other API
        if remote:
            await self.act(n, case_id, "contacts", {"channel": "email", "outcome": "sent"})
            req = {"reason": "Revisar el perfil de Outlook", "access": "control"}
            await self.act(n + 1, case_id, "remote-access/request", req)
            await self.authorize(n + 2, i, case_id)
            await self.act(n + 3, case_id, "remote-session/start", {})
            end = {"outcome": "completed", "summary": "Perfil reparado"}
            await self.act(n + 4, case_id, "remote-session/end", end)
            resolve = {"methods": ["remote"], "summary": "Reparado en remoto"}
        else:
            await self.act(n, case_id, "contacts", {"channel": "phone", "outcome": "reached"})
            resolve = {"methods": ["phone"], "summary": "Resuelto por teléfono"}
        assert (await self.act(n + 5, case_id, "resolve", resolve))["stage"] == "resuelto"
        assert (await self.act(n + 6, case_id, "close", {}))["stage"] == "cerrado"
        self.closed.append(case_id)


@pytest.fixture
async def cluster(
    local_env: WorkflowEnvironment, migrated_db: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    ports = [free_port(), free_port()]
    base_url = f"http://127.0.0.1:{ports[0]}"
    target = local_env.client.service_client.config.target_host
    task_queue = f"scale-{uuid.uuid4()}"
    try:
        with processes(tmp_path) as procs:
            procs.env = app_env(target, task_queue, migrated_db, smtp.port, base_url)
            workers = [procs.worker("worker-a"), procs.worker("worker-b")]
            for name, port in zip(("api-a", "api-b"), ports, strict=True):
                procs.api(name, port)
            async with contextlib.AsyncExitStack() as stack:
                apis = [
                    await stack.enter_async_context(
                        httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}")
                    )
                    for p in ports
                ]
                for http in apis:
                    await ready_api(http, 2, 90, procs.logs)
                yield Cluster(apis, workers, procs, inbox, base_url)
    finally:
        smtp.stop()


async def _drive(cluster: Cluster) -> dict[str, Any]:
    """Every lifecycle, CLIENTS at a time; kills worker A once enough cases closed."""
    gate = asyncio.Semaphore(CLIENTS)
    killed: dict[str, Any] = {}

    async def one(i: int) -> None:
        async with gate:
            await cluster.lifecycle(i)

    async def killer() -> None:
        async def enough() -> bool:
            return len(cluster.closed) >= KILL_AFTER_CLOSED

        await poll(enough, DRIVE_BOUND, f"{KILL_AFTER_CLOSED} cases closed", 0.05)
        in_flight = [c for c in cluster.started if c not in cluster.closed]
        Processes.kill(cluster.workers[0])
        killed.update(at=time.monotonic(), in_flight=in_flight)

    # A task group: one failing lifecycle cancels the others, none is left behind.
    async with asyncio.timeout(DRIVE_BOUND), asyncio.TaskGroup() as group:
        group.create_task(killer())
        for i in range(CASES):
            group.create_task(one(i))
    killed["done"] = time.monotonic()
    return killed


async def test_a_worker_killed_mid_lifecycle_loses_and_repeats_nothing(
    cluster: Cluster, local_env: WorkflowEnvironment, migrated_db: str
) -> None:
    began = time.monotonic()
    try:
        killed = await _drive(cluster)
    except TimeoutError as exc:
        raise AssertionError(
            f"only {len(cluster.closed)}/{CASES} cases closed within {DRIVE_BOUND:.0f} s\n"
            + cluster.procs.logs()
        ) from exc
    assert len(cluster.closed) == CASES
    assert killed["in_flight"], "the worker was killed with no case mid-lifecycle"
    assert not cluster.workers[0].alive()
    assert cluster.workers[1].alive(), cluster.workers[1].tail()
    cases = list(cluster.started)

    # Every case's workflow completes (its lanes drained: read model and mails).
    async def status(case_id: str) -> WorkflowExecutionStatus | None:
        return (await local_env.client.get_workflow_handle(case_id).describe()).status

    async def all_completed() -> bool:
        found = await asyncio.gather(*(status(c) for c in cases))
        return all(s is WorkflowExecutionStatus.COMPLETED for s in found)

    await poll(all_completed, 90, "every case's workflow completed", 1.0, cluster.procs.logs)

    # PostgreSQL holds each expected event exactly once per case.
    async with await AsyncConnection.connect(migrated_db) as conn:
        cur = await conn.execute(
            "SELECT case_id, type, count(*), count(DISTINCT event_id) FROM case_events "
            "WHERE case_id = ANY(%s) GROUP BY case_id, type",
            (cases,),
        )
        rows = await cur.fetchall()
        cur = await conn.execute(
            "SELECT c.case_id, c.revision, max(e.revision) FROM cases c "
            "JOIN case_events e USING (case_id) WHERE c.case_id = ANY(%s) GROUP BY c.case_id",
            (cases,),
        )
        revisions = await cur.fetchall()
    logged: dict[str, Counter[str]] = {c: Counter() for c in cases}
    for case_id, type_, count, distinct in rows:
        assert count == distinct
        logged[case_id][type_] = count
    wrong = {
        c: dict(got)
        for c, got in logged.items()
        if got != (REMOTE_EVENTS if cluster.started[c] else PHONE_LIFECYCLE)
    }
    assert not wrong, f"{len(wrong)} cases with lost or repeated events: {wrong}"
    # The read model reached each workflow's last revision.
    finals = await asyncio.gather(
        *(local_env.client.get_workflow_handle_for(CaseWorkflow.run, c).result() for c in cases)
    )
    final = {r.case_id: r.revision for r in finals}
    assert {c: (rev, last) for c, rev, last in revisions} == {
        c: (final[c], final[c]) for c in cases
    }

    # Cases the killed worker had in hand were finished by the other one.
    dead, alive = cluster.workers[0].identity_prefix, cluster.workers[1].identity_prefix
    taken_over = 0
    for case_id in killed["in_flight"]:
        who = [
            e.workflow_task_completed_event_attributes.identity
            async for e in local_env.client.get_workflow_handle(case_id).fetch_history_events()
            if e.HasField("workflow_task_completed_event_attributes")
        ]
        if any(w.startswith(dead) for w in who) and who[-1].startswith(alive):
            taken_over += 1
    assert taken_over > 0, "no case in flight had been worked by the killed worker"
    print(
        f"\nscale-out: {CASES} cases driven in {killed['done'] - began:.1f} s (worker A "
        f"killed at {killed['at'] - began:.1f} s with {len(killed['in_flight'])} cases in "
        f"flight, {taken_over} of them finished by worker B); whole test "
        f"{time.monotonic() - began:.1f} s; "
        f"client retries {dict(cluster.retries)}"
    )
