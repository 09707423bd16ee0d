"""`python -m worker`: runs the case workflows and activities until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from core.db import make_pool
from core.logs import configure as configure_logging
from core.settings import Settings
from core.temporal import connect, metrics_runtime
from worker.build import build_worker, bytecode_cache, case_activities, report_activities
from workflows.sla import load_policy

log = logging.getLogger("worker")
_GRACE = timedelta(seconds=10)


async def serve(settings: Settings, **options: Any) -> None:
    """Runs until SIGTERM or SIGINT; `options` go to the Worker (the benchmarks vary
    the pollers)."""
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set (`make run` sets it for the embedded server)")
    settings.require_secret()
    # A bad policy file must stop the worker before it handles any case.
    policy = load_policy(settings.sla_policy_file, settings.sla_holidays_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with make_pool(settings.database_url, settings.database_pool_max) as pool:
        # The Runtime's Prometheus endpoint serves the SDK's and the workflows' metrics.
        client = await connect(settings, metrics_runtime(settings))
        worker = build_worker(
            client,
            settings.temporal_task_queue,
            [
                *case_activities(pool, client, settings, policy.timezone),
                *report_activities(pool, settings, policy),
            ],
            graceful_shutdown_timeout=_GRACE,
            **options,
        )
        log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_address)
        if settings.worker_metrics_port:
            where = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
            log.info("metrics at http://%s/metrics", where)
        async with worker:  # leaving the block finishes running activities, then stops
            await stop.wait()
            log.info("shutting down")


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    with bytecode_cache():
        asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
