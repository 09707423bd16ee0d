"""`python -m bench.service_worker [poller]`: the service's worker (`python -m worker`,
same settings from the environment), with the workflow-task poller behaviour to measure:
`simple:<n>` (PollerBehaviorSimpleMaximum, the default `simple:20`) or
`auto:<min>:<max>` (PollerBehaviorAutoscaling); `--no-bytecode-cache` runs it without
`worker.build.bytecode_cache` (as before issue 10)."""

from __future__ import annotations

import asyncio
import contextlib
import sys

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


def main(spec: str, cache: bool) -> None:
    from worker.__main__ import serve
    from worker.build import bytecode_cache

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    options = {"workflow_task_poller_behavior": poller_behavior(spec)}
    with bytecode_cache() if cache else contextlib.nullcontext():
        asyncio.run(serve(settings, **options))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "simple:20", "--no-bytecode-cache" not in sys.argv)
