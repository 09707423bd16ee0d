"""`python -m worker`: runs the case workflows and activities until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from activities.db import make_pool
from activities.settings import Settings
from worker.build import build_worker, case_activities
from worker.connect import connect
from workflows.sla import load_policy

log = logging.getLogger("worker")
_GRACE = timedelta(seconds=10)


async def serve(settings: Settings) -> None:
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
        client = await connect(settings)
        worker = build_worker(
            client,
            settings.temporal_task_queue,
            case_activities(pool, client, settings, policy.timezone),
            graceful_shutdown_timeout=_GRACE,
        )
        log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_address)
        async with worker:  # leaving the block finishes running activities, then stops
            await stop.wait()
            log.info("shutting down")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(Settings()))


if __name__ == "__main__":
    main()
