"""The service against bare Temporal on the same dev server, in one run:
`python -m bench.compare [--seconds 20] [--clients 16] [--actions 200] [--poller simple:20]`.

(a) intake: `POST /cases` answered 201 per second, against a bare update-with-start
    answered after the first workflow task (`bench.bare`);
(b) one agent action, unloaded (one at a time): `POST /cases/{id}/contacts` p50 and p99,
    against a bare update round trip that queues one activity;
(c) full lifecycle, `--clients` at once: intake, contact, remote-access request, the
    customer's authorization through the link mailed to them, session start and end,
    resolve, close, until the workflow has finished (every PostgreSQL write and mail
    done), against a bare workflow with the same number of updates and activities
    (counted from the service's own history in this run).

Targets (issue 10): intake at least 0.7 of bare, action p50 at most 1.5 of bare,
lifecycle at least 0.5 of bare. The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from bench.bare import Bare
from bench.stack import (
    AGENT,
    BARE_QUEUE,
    BODY,
    CC,
    Stack,
    auth,
    emit,
    ratio,
    stack_options,
    summary,
    table,
)

Step = Callable[[], Awaitable[object]]


async def loop_for(seconds: float, clients: int, step: Step) -> list[float]:
    """`clients` loops of `step` for `seconds`; each step's latency."""
    until, latencies = time.monotonic() + seconds, []

    async def client() -> None:
        while time.monotonic() < until:
            began = time.perf_counter()
            await step()
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def post(stack: Stack, path: str, body: dict[str, Any], key: str = AGENT) -> Any:
    r = await stack.http.post(path, json=body, headers=auth(key))
    if r.status_code not in (200, 201):
        raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
    return r.json()


async def intake(stack: Stack) -> str:
    case_id: str = (await post(stack, "/cases", BODY, CC))["case_id"]
    return case_id


async def bare_start(stack: Stack, activities: int) -> str:
    workflow_id = f"bare-{secrets.token_hex(8)}"
    start = WithStartWorkflowOperation(
        Bare.run,
        args=[activities, 0.0],
        id=workflow_id,
        task_queue=BARE_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    await stack.client.execute_update_with_start_workflow(
        Bare.ready, start_workflow_operation=start
    )
    return workflow_id


async def lifecycle(stack: Stack) -> str:
    case_id = await intake(stack)
    base = f"/cases/{case_id}"
    await post(stack, f"{base}/contacts", {"channel": "email", "outcome": "sent"})
    request = {"reason": "Revisar Outlook", "access": "control"}
    await post(stack, f"{base}/remote-access/request", request)
    link = await stack.inbox.link(case_id)
    r = await stack.http.post(
        link,
        content="decision=autorizar",
        headers={"content-type": "application/x-www-form-urlencoded", "user-agent": "bench"},
    )
    if r.status_code != 303 or "resultado=hecho" not in r.headers.get("location", ""):
        raise RuntimeError(f"authorization: {r.status_code} {r.headers.get('location')}")
    await post(stack, f"{base}/remote-session/start", {})
    end = {"outcome": "completed", "summary": "Perfil reparado"}
    await post(stack, f"{base}/remote-session/end", end)
    await post(stack, f"{base}/resolve", {"methods": ["remote"], "summary": "Funciona"})
    await post(stack, f"{base}/close", {})
    await stack.client.get_workflow_handle(case_id).result()
    return case_id


async def shape(stack: Stack, case_id: str) -> tuple[int, int]:
    """(updates, activities) in a finished case's history."""
    history = await stack.client.get_workflow_handle(case_id).fetch_history()
    kinds = [e.WhichOneof("attributes") for e in history.events]
    updates = kinds.count("workflow_execution_update_accepted_event_attributes")
    activities = kinds.count("activity_task_scheduled_event_attributes")
    return updates, activities


async def bare_lifecycle(stack: Stack, updates: int, activities: int) -> None:
    """update-with-start, then updates - 1 updates; the activities spread over them."""
    per = [activities // updates + (1 if i < activities % updates else 0) for i in range(updates)]
    workflow_id = await bare_start(stack, per[0])
    handle = stack.client.get_workflow_handle(workflow_id)
    for n, count in enumerate(per[1:], start=2):
        await handle.execute_update(Bare.act, args=[count, n == updates])
    await handle.result()


async def actions(stack: Stack, count: int) -> tuple[list[float], list[float]]:
    """`count` contacts one at a time (50 per case), and as many bare update round trips."""
    cases = [await intake(stack) for _ in range(count // 50 + 1)]
    contact = {"channel": "phone", "outcome": "no_answer"}
    service = []
    for i in range(count):
        began = time.perf_counter()
        await post(stack, f"/cases/{cases[i // 50]}/contacts", contact)
        service.append(time.perf_counter() - began)
    handle = stack.client.get_workflow_handle(await bare_start(stack, 0))
    bare = []
    for _ in range(count):
        began = time.perf_counter()
        await handle.execute_update(Bare.act, args=[1, False])
        bare.append(time.perf_counter() - began)
    return service, bare


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with Stack.from_args(args) as stack:
        s, c = args.seconds, args.clients
        await loop_for(2, c, lambda: intake(stack))  # warm-up
        await loop_for(2, c, lambda: bare_start(stack, 0))
        svc_intake = await loop_for(s, c, lambda: intake(stack))
        bare_intake = await loop_for(s, c, lambda: bare_start(stack, 0))
        svc_act, bare_act = await actions(stack, args.actions)
        updates, activities = await shape(stack, await lifecycle(stack))
        svc_life = await loop_for(s, c, lambda: lifecycle(stack))
        bare_life = await loop_for(s, c, lambda: bare_lifecycle(stack, updates, activities))
        rss = stack.rss()
    rate = {k: len(v) / s for k, v in [("si", svc_intake), ("bi", bare_intake)]}
    life = {k: len(v) / s for k, v in [("s", svc_life), ("b", bare_life)]}
    sa, ba = summary(x * 1000 for x in svc_act), summary(x * 1000 for x in bare_act)
    rows = [
        [
            "(a) intake /s",
            round(rate["si"], 1),
            round(rate["bi"], 1),
            ratio(rate["si"], rate["bi"]),
        ],
        ["(b) action p50 ms", sa["p50"], ba["p50"], ratio(sa["p50"], ba["p50"])],
        ["(b) action p99 ms", sa["p99"], ba["p99"], ratio(sa["p99"], ba["p99"])],
        ["(c) lifecycle /s", round(life["s"], 2), round(life["b"], 2), ratio(life["s"], life["b"])],
    ]
    title = (
        f"service vs bare Temporal, {c} clients, {s:g} s per figure, poller {args.poller}, "
        f"bytecode cache {args.bytecode_cache}; "
        f"lifecycle = {updates} updates, {activities} activities"
    )
    table(title, ["figure", "service", "bare", "ratio"], rows)
    si, bi = summary(svc_intake), summary(bare_intake)
    print(f"intake latency s: service p50 {si['p50']} p99 {si['p99']}; bare p50 {bi['p50']}")
    print(f"resident MiB at the end: {rss}")
    return {
        "poller": args.poller,
        "bytecode_cache": args.bytecode_cache,
        "clients": c,
        "intake_per_s": {"service": rate["si"], "bare": rate["bi"]},
        "intake_latency_s": {"service": si, "bare": bi},
        "action_ms": {"service": sa, "bare": ba},
        "lifecycle_per_s": {"service": life["s"], "bare": life["b"]},
        "lifecycle_shape": {"updates": updates, "activities": activities},
        "ratios": {r[0]: r[3] for r in rows},
        "rss_mib": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--actions", type=int, default=200)
    stack_options(parser)
    args = parser.parse_args()
    emit("compare", **asyncio.run(run(args)))


if __name__ == "__main__":
    main()
