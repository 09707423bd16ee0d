"""Many open cases: `python -m bench.scale [--sizes 10000,20000] [--clients 16]`.

Opens cases through `POST /cases` (premium, severity B: a pending two-hour deadline
each) up to each size in turn, and at each size reports the time to open them, the
resident memory of the dev server, the worker and the API (from /proc), PostgreSQL's
and Temporal's database sizes, the history bytes per case (a sample), and how late a
probe case's deadline fires while they are all open (probe cases due 10 s after they
are opened). Then, for reference, as many bare workflows with a pending two-hour timer
on the same dev server (`--no-bare` skips them). The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bare import Bare
from bench.stack import (
    BARE_QUEUE,
    BODY,
    CC,
    QUEUE,
    Stack,
    auth,
    case_input,
    emit,
    stack_options,
    summary,
    table,
)
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity
from workflows.sla import load_policy

_PROBES, _PROBE_LEAD = 5, timedelta(seconds=10)


async def open_many(stack: Stack, count: int, clients: int) -> list[str]:
    ids: list[str] = []
    todo = iter(range(count))

    async def client() -> None:
        for _ in todo:
            r = await stack.http.post("/cases", json=BODY, headers=auth(CC))
            if r.status_code != 201:
                raise RuntimeError(f"{r.status_code}: {r.text[:300]}")
            ids.append(r.json()["case_id"])

    await asyncio.gather(*(client() for _ in range(clients)))
    return ids


async def bare_many(stack: Stack, start: int, count: int, clients: int) -> None:
    until = (datetime.now(UTC) + timedelta(hours=2)).timestamp()
    todo = iter(range(start, start + count))

    async def client() -> None:
        for i in todo:
            await stack.client.start_workflow(
                Bare.run, args=[0, until], id=f"bare-scale-{i:06d}", task_queue=BARE_QUEUE
            )

    await asyncio.gather(*(client() for _ in range(clients)))


async def probe_lateness(stack: Stack, tag: str) -> list[float]:
    """Severity A probes due `_PROBE_LEAD` after they open; seconds late, by their record."""
    from api.workflow_gateway import open_case

    policy = load_policy()
    target = policy.cell(Plan.PREMIUM, Severity.A).target_delta
    assert target is not None
    ids = []
    for i in range(_PROBES):
        due = datetime.now(UTC) + _PROBE_LEAD
        inp = case_input(f"CASE-PROBE{tag}{i}", Plan.PREMIUM, Severity.A, due - target, policy)
        await open_case(stack.client, QUEUE, inp, timedelta(seconds=60))
        ids.append(inp.case_id)
    await asyncio.sleep(_PROBE_LEAD.total_seconds() + 5)
    late = []
    for case_id in ids:
        handle = stack.client.get_workflow_handle_for(CaseWorkflow.run, case_id)
        state = await handle.query(CaseWorkflow.state)
        due_at, fired = state.sla.commitment.response_due, state.sla.breached_at
        if due_at is not None and fired is not None:
            late.append((fired - due_at).total_seconds())
    return late


async def history_bytes(stack: Stack, ids: list[str], sample: int = 20) -> float:
    step = max(1, len(ids) // sample)
    sizes = []
    for case_id in ids[::step][:sample]:
        history = await stack.client.get_workflow_handle(case_id).fetch_history()
        sizes.append(sum(e.ByteSize() for e in history.events))
    return sum(sizes) / len(sizes)


async def checkpoint(stack: Stack, n: int, took: float, ids: list[str]) -> dict[str, Any]:
    await asyncio.sleep(5)  # let the lanes of the last cases finish
    late = summary(await probe_lateness(stack, str(n)))
    return {
        "cases": n,
        "open_s": round(took, 1),
        "per_s": round(n / took, 1),
        "rss_mib": stack.rss(),
        **await stack.sizes(),
        "history_bytes_per_case": round(await history_bytes(stack, ids)),
        "probe_late_s": late,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(s) for s in args.sizes.split(",")]
    service, bare = [], []
    async with Stack.from_args(args) as stack:
        ids: list[str] = []
        began = time.monotonic()
        for n in sizes:
            ids += await open_many(stack, n - len(ids), args.clients)
            service.append(await checkpoint(stack, n, time.monotonic() - began, ids))
            print(f"service: {service[-1]}", flush=True)
        if args.bare:
            before = {"rss": stack.rss()["temporal"], **await stack.sizes()}
            done, began = 0, time.monotonic()
            for n in sizes:
                await bare_many(stack, done, n - done, args.clients)
                done = n
                took = time.monotonic() - began
                after = {"rss": stack.rss()["temporal"], **await stack.sizes()}
                bare.append(
                    {
                        "workflows": n,
                        "open_s": round(took, 1),
                        "per_s": round(n / took, 1),
                        "temporal_rss_growth_mib": round(after["rss"] - before["rss"], 1),
                        "temporal_db_growth_mib": round(
                            after["temporal_mib"] - before["temporal_mib"], 1
                        ),
                    }
                )
                print(f"bare: {bare[-1]}", flush=True)
    rows = [
        [
            s["cases"],
            s["open_s"],
            s["per_s"],
            s["rss_mib"].get("temporal"),
            s["rss_mib"].get("worker"),
            s["rss_mib"].get("api"),
            s["postgresql_mib"],
            s["temporal_mib"],
            s["history_bytes_per_case"],
            s["probe_late_s"].get("p50"),
            s["probe_late_s"].get("max"),
        ]
        for s in service
    ]
    header = ["open cases", "open s", "/s", "dev server MiB", "worker MiB", "API MiB"]
    header += ["PostgreSQL MiB", "Temporal DB MiB", "history B/case", "probe p50 s", "max s"]
    table("(d) service: open cases with pending deadlines", header, rows)
    if bare:
        brow = [[b[k] for k in b] for b in bare]
        table("(d) bare: open workflows with a pending timer", list(bare[0]), brow)
    return {"service": service, "bare": bare}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,20000", help="comma-separated case counts")
    parser.add_argument("--clients", type=int, default=16)
    stack_options(parser)
    parser.add_argument("--no-bare", dest="bare", action="store_false")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    emit(
        "scale", sizes=args.sizes, poller=args.poller, bytecode_cache=args.bytecode_cache, **figures
    )


if __name__ == "__main__":
    main()
