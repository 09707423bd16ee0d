"""Where an intake's time goes: `python -m bench.profile_intake [--cases 50]`.

One intake at a time (no queueing), so each part is its own cost: the HTTP round trip
of `POST /cases`; the API's own call to Temporal (`api.workflow_gateway.open_case`:
update-with-start until the first workflow task has registered the case, then a query
for the case), made directly; a bare update-with-start (`bench.bare`); and, from each
case's history, the first workflow task (waiting in the queue, then on the worker) and
every activity the intake scheduled (the read model, the mails), waiting and running.
The API's own share is the HTTP round trip minus its call to Temporal.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from api.workflow_gateway import open_case
from bench.compare import bare_start, intake
from bench.stack import QUEUE, Stack, case_input, emit, stack_options, summary, table
from workflows.domain import Plan, Severity
from workflows.sla import load_policy


def ms(values: list[float]) -> dict[str, float]:
    return summary(v * 1000 for v in values)


async def spans(stack: Stack, case_id: str) -> dict[str, float]:
    """Seconds of the first workflow task and of each activity, from the history."""
    events = (await stack.client.get_workflow_handle(case_id).fetch_history()).events
    at = {e.event_id: e.event_time.ToDatetime() for e in events}
    out: dict[str, float] = {}
    names: dict[int, str] = {}
    started: dict[int, int] = {}
    for e in events:
        kind = e.WhichOneof("attributes")
        if kind == "workflow_task_started_event_attributes" and "wft_queue" not in out:
            sched = e.workflow_task_started_event_attributes.scheduled_event_id
            out["wft_queue"] = (at[e.event_id] - at[sched]).total_seconds()
        elif kind == "workflow_task_completed_event_attributes" and "wft_run" not in out:
            began = e.workflow_task_completed_event_attributes.started_event_id
            out["wft_run"] = (at[e.event_id] - at[began]).total_seconds()
        elif kind == "activity_task_scheduled_event_attributes":
            names[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
        elif kind == "activity_task_started_event_attributes":
            sched = e.activity_task_started_event_attributes.scheduled_event_id
            started[sched] = e.event_id
            out[f"{names[sched]}_queue"] = (at[e.event_id] - at[sched]).total_seconds()
        elif kind == "activity_task_completed_event_attributes":
            sched = e.activity_task_completed_event_attributes.scheduled_event_id
            run = (at[e.event_id] - at[started[sched]]).total_seconds()
            out[f"{names[sched]}_run"] = run
    last = max(at.values())
    out["until_lanes_idle"] = (last - at[events[0].event_id]).total_seconds()
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    policy = load_policy()
    parts: dict[str, list[float]] = defaultdict(list)
    async with Stack.from_args(args) as stack:
        for _ in range(5):  # warm-up
            await intake(stack)
            await bare_start(stack, 0)
        ids = []
        for i in range(args.cases):
            began = time.perf_counter()
            ids.append(await intake(stack))
            parts["http_post_cases"].append(time.perf_counter() - began)
            now = datetime.now(UTC)
            inp = case_input(f"CASE-D{i:05d}", Plan.PREMIUM, Severity.B, now, policy)
            began = time.perf_counter()
            await open_case(stack.client, QUEUE, inp, timedelta(seconds=30))
            parts["gateway_open_case"].append(time.perf_counter() - began)
            began = time.perf_counter()
            await bare_start(stack, 0)
            parts["bare_update_with_start"].append(time.perf_counter() - began)
            await asyncio.sleep(0.3)  # let its lanes finish: one intake at a time
        await asyncio.sleep(2)
        for case_id in ids:
            for name, value in (await spans(stack, case_id)).items():
                parts[name].append(value)
    figures = {name: ms(values) for name, values in parts.items()}
    api = figures["http_post_cases"]["p50"] - figures["gateway_open_case"]["p50"]
    rows = [[name, f["n"], f["p50"], f["p95"], f["max"]] for name, f in figures.items()]
    rows.append(["API's own share (p50 http - p50 gateway)", "", round(api, 1), "", ""])
    table(
        f"intake, one at a time, ms ({args.cases} cases)", ["part", "n", "p50", "p95", "max"], rows
    )
    return {"cases": args.cases, "ms": figures, "api_share_p50_ms": round(api, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    stack_options(parser)
    args = parser.parse_args()
    emit(
        "profile_intake",
        poller=args.poller,
        bytecode_cache=args.bytecode_cache,
        **asyncio.run(run(args)),
    )


if __name__ == "__main__":
    main()
