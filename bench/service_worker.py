"""`python -m bench.service_worker [poller]`: the service's worker (`python -m worker`,
same settings from the environment), with the workflow-task poller behaviour to measure:
`simple:<n>` (PollerBehaviorSimpleMaximum, the default `simple:20`) or
`auto:<min>:<max>` (PollerBehaviorAutoscaling); `--no-bytecode-cache` runs it without
`worker.build.bytecode_cache` (as before issue 10); `--max-activities`, `--cache-size`
set the Worker's max_concurrent_activities and max_cached_workflows."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any

from temporalio.worker import PollerBehavior, PollerBehaviorAutoscaling, PollerBehaviorSimpleMaximum

from core.logs import configure as configure_logging
from core.settings import Settings


def poller_behavior(spec: str) -> PollerBehavior:
    kind, *numbers = spec.split(":")
    if kind == "simple":
        return PollerBehaviorSimpleMaximum(int(numbers[0]))
    if kind == "auto":
        low, high = (int(n) for n in numbers)
        return PollerBehaviorAutoscaling(minimum=low, maximum=high, initial=low)
    raise SystemExit(f"poller {spec!r}: simple:<n> or auto:<min>:<max>")


def main(argv: list[str]) -> None:
    from worker.__main__ import serve
    from worker.build import bytecode_cache

    parser = argparse.ArgumentParser()
    parser.add_argument("poller", nargs="?", default="simple:20")
    parser.add_argument("--no-bytecode-cache", dest="cache", action="store_false")
    parser.add_argument("--max-activities", type=int, help="max_concurrent_activities")
    parser.add_argument("--cache-size", type=int, help="max_cached_workflows")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    options: dict[str, Any] = {"workflow_task_poller_behavior": poller_behavior(args.poller)}
    if args.max_activities:
        options["max_concurrent_activities"] = args.max_activities
    if args.cache_size:
        options["max_cached_workflows"] = args.cache_size
    with bytecode_cache() if args.cache else contextlib.nullcontext():
        asyncio.run(serve(settings, **options))


if __name__ == "__main__":
    main(sys.argv[1:])
