"""Deadline bursts: `python -m bench.burst [--deadlines 2000] [--recovery 500]`.

(e) `--deadlines` cases whose response deadlines fall at one instant (25 % severity A,
25 % B, 50 % C, opened through the API's gateway, so with their task priority), then as
many bare workflows (`bench.bare`) whose timers fall at one instant, with the same
priorities: lateness by severity, the service's from its own record of the breach.
(f) `--recovery` cases, and as many bare timers, due while their worker is stopped; the
worker is started `--outage` seconds after the instant: time from its start until every
one fired, and how many fired more than once.

Targets (issue 10): severity A at most 1 s late at the median and 5 s at worst; every
deadline within 30 s. The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.common import Priority

from api.workflow_gateway import open_case
from bench.bare import Bare
from bench.stack import (
    BARE_QUEUE,
    QUEUE,
    Stack,
    case_input,
    emit,
    stack_options,
    summary,
    table,
)
from workflows.domain import Plan, Severity
from workflows.priority import case_priority, priority_key
from workflows.sla import load_policy

# Deadlines at a chosen instant: each case is registered its cell's target before it, so
# the breach of every case falls at `due` (warnings, a quarter of the window earlier,
# have passed and fire on registration). 25 % severity A (priority 1), 25 % B (2), 50 % C.
MIX = [Severity.A, Severity.B, Severity.C, Severity.C]
PLAN_OF = {Severity.A: Plan.PREMIUM, Severity.B: Plan.ESTANDAR, Severity.C: Plan.PREMIUM}


async def open_due(
    stack: Stack, count: int, due: datetime, tag: str, concurrency: int = 16
) -> dict[str, Severity]:
    """Opens `count` cases through the API's own gateway (update-with-start, priority)
    whose response deadlines all fall at `due`; their ids with their severity."""
    policy = load_policy()
    cases = {f"CASE-{tag}{i:06d}": MIX[i % len(MIX)] for i in range(count)}
    todo = iter(cases.items())

    async def opener() -> None:
        for case_id, severity in todo:
            plan = PLAN_OF[severity]
            target = policy.cell(plan, severity).target_delta
            assert target is not None
            inp = case_input(case_id, plan, severity, due - target, policy)
            await open_case(stack.client, QUEUE, inp, timedelta(seconds=60))

    await asyncio.gather(*(opener() for _ in range(concurrency)))
    return cases


async def breaches(stack: Stack, ids: list[str]) -> list[tuple[str, datetime]]:
    """(case id, the workflow's own firing instant) of every breach PostgreSQL holds."""
    async with stack.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT case_id, at FROM case_events WHERE case_id = ANY(%s) AND type = 'sla_breached'",
            (ids,),
        )
        return [(r["case_id"], r["at"]) for r in await cur.fetchall()]


async def wait_breaches(stack: Stack, ids: list[str], limit: float) -> list[tuple[str, datetime]]:
    """Breaches once PostgreSQL holds one per case (or after `limit` seconds)."""
    until = time.monotonic() + limit
    while True:
        got = await breaches(stack, ids)
        if len({c for c, _ in got}) >= len(ids) or time.monotonic() > until:
            return got
        await asyncio.sleep(1)


def by_severity(cases: dict[str, Severity], late: dict[str, float]) -> list[list[Any]]:
    """Rows: severity, priority key, n, p50, p95, max (seconds late)."""
    rows = []
    for sev in Severity:
        s = summary(v for c, v in late.items() if cases[c] is sev)
        if s["n"]:
            key = priority_key(sev, PLAN_OF[sev])
            rows.append([sev.value, key, s["n"], s["p50"], s["p95"], s["max"]])
    s = summary(late.values())
    rows.append(["all", "-", s["n"], s.get("p50", 0.0), s.get("p95", 0.0), s.get("max", 0.0)])
    return rows


HEADER = ["severity", "priority", "n", "p50 s", "p95 s", "max s"]


async def until(at: datetime) -> None:
    await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))


LEAD: list[float | None] = [None]


def lead(count: int) -> timedelta:
    """Time to open `count` cases and let their lanes settle before the instant: about 5
    cases a second on 2 cores busy with other work (`--lead` sets it)."""
    return timedelta(seconds=LEAD[0] or 60 + count / 4)


async def service_burst(stack: Stack, count: int, tag: str) -> tuple[dict[str, Any], float]:
    due = datetime.now(UTC) + lead(count)
    began = time.monotonic()
    cases = await open_due(stack, count, due, tag)
    opened = time.monotonic() - began
    if datetime.now(UTC) > due:
        print(f"warning: opening took {opened:.0f} s, past the instant; raise the lead")
    return {"cases": cases, "due": due}, opened


async def bare_start(
    stack: Stack, count: int, due: datetime, tag: str, priority: bool = True
) -> dict[str, tuple[Severity, WorkflowHandle[Any, float]]]:
    out: dict[str, tuple[Severity, WorkflowHandle[Any, float]]] = {}
    todo = iter(range(count))

    async def starter() -> None:
        for i in todo:
            sev = MIX[i % len(MIX)]
            handle = await stack.client.start_workflow(
                Bare.run,
                args=[0, due.timestamp()],
                id=f"bare-{tag}-{i:06d}",
                task_queue=BARE_QUEUE,
                priority=case_priority(sev, PLAN_OF[sev]) if priority else Priority.default,
            )
            out[handle.id] = (sev, handle)

    await asyncio.gather(*(starter() for _ in range(16)))
    return out


async def bare_results(
    started: dict[str, tuple[Severity, WorkflowHandle[Any, float]]],
) -> dict[str, float]:
    sem = asyncio.Semaphore(32)

    async def one(handle: WorkflowHandle[Any, float]) -> float:
        async with sem:
            return await handle.result()

    ids = list(started)
    values = await asyncio.gather(*(one(started[i][1]) for i in ids))
    return dict(zip(ids, values, strict=True))


async def deadline_burst(stack: Stack, count: int) -> dict[str, Any]:
    svc, opened = await service_burst(stack, count, "E")
    cases: dict[str, Severity] = svc["cases"]
    print(f"(e) {count} cases opened in {opened:.0f} s; all due at {svc['due']:%H:%M:%S}")
    await until(svc["due"])
    fired = await wait_breaches(stack, list(cases), 120 + count / 10)
    late = {c: (at - svc["due"]).total_seconds() for c, at in fired}
    service_rows = by_severity(cases, late)
    table(f"(e) service: {count} deadlines at one instant, seconds late", HEADER, service_rows)

    bare: dict[str, list[list[Any]]] = {}
    for priority in (True, False):
        due = datetime.now(UTC) + timedelta(seconds=30 + count / 50)
        started = await bare_start(stack, count, due, f"E{int(priority)}", priority)
        await until(due + timedelta(seconds=5))
        bare_late = await bare_results(started)
        rows = by_severity({w: s for w, (s, _) in started.items()}, bare_late)
        label = "with the same priorities" if priority else "no priority (all 3)"
        table(f"(e) bare Temporal: {count} timers at one instant, {label}", HEADER, rows)
        bare["bare" if priority else "bare_no_priority"] = rows
    within = sum(1 for v in late.values() if v <= 30)
    print(f"service: {len(late)} of {count} fired, {within} within 30 s")
    return {
        "n": count,
        "service": {r[0]: dict(zip(HEADER[2:], r[2:], strict=True)) for r in service_rows},
        **{
            k: {r[0]: dict(zip(HEADER[2:], r[2:], strict=True)) for r in v} for k, v in bare.items()
        },
        "service_fired": len(late),
        "service_within_30s": within,
    }


async def recovery_burst(stack: Stack, count: int, outage: float) -> dict[str, Any]:
    svc, _ = await service_burst(stack, count, "F")
    cases: dict[str, Severity] = svc["cases"]
    due: datetime = svc["due"]
    await until(due - timedelta(seconds=3))
    stack.stop("worker")
    print(f"(f) worker stopped 3 s before {count} deadlines; started {outage:g} s after them")
    await until(due + timedelta(seconds=outage))
    back = datetime.now(UTC)
    stack.start_worker()
    fired = await wait_breaches(stack, list(cases), 120 + count / 5)
    counts = Counter(c for c, _ in fired)
    last = max((at for _, at in fired), default=back)
    service = {
        "fired": len(counts),
        "fired_twice": sum(1 for n in counts.values() if n > 1),
        "all_fired_after_start_s": round((last - back).total_seconds(), 2),
    }

    bare_due = datetime.now(UTC) + timedelta(seconds=30 + count / 50)
    started = await bare_start(stack, count, bare_due, "F")
    await until(bare_due - timedelta(seconds=3))
    stack.stop("bare")
    await until(bare_due + timedelta(seconds=outage))
    bare_back = datetime.now(UTC)
    stack.spawn("bare", stack.bare_command())
    await until(bare_due + timedelta(seconds=outage + 2))
    values = await bare_results(started)
    bare_last = max(bare_due + timedelta(seconds=v) for v in values.values())
    bare = {
        "fired": len(values),
        "fired_twice": 0,  # a workflow's result is its one firing
        "all_fired_after_start_s": round((bare_last - bare_back).total_seconds(), 2),
    }
    rows = [[k, service[k], bare[k]] for k in service]
    table(
        f"(f) recovery: {count} deadlines while the worker was stopped",
        ["", "service", "bare"],
        rows,
    )
    return {"n": count, "outage_s": outage, "service": service, "bare": bare}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with Stack.from_args(args) as stack:
        out: dict[str, Any] = {}
        if args.deadlines:
            out["deadline_burst"] = await deadline_burst(stack, args.deadlines)
        if args.recovery:
            out["recovery_burst"] = await recovery_burst(stack, args.recovery, args.outage)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadlines", type=int, default=2000)
    parser.add_argument("--recovery", type=int, default=500)
    parser.add_argument("--outage", type=float, default=20, help="seconds, worker stopped")
    parser.add_argument("--lead", type=float, help="seconds from opening to the instant")
    stack_options(parser)
    args = parser.parse_args()
    LEAD[0] = args.lead
    emit("burst", poller=args.poller, bytecode_cache=args.bytecode_cache, **asyncio.run(run(args)))


if __name__ == "__main__":
    main()
