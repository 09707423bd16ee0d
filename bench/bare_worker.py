"""`python -m bench.bare_worker [poller]`: the worker of the bare reference (`bench.bare`),
on the `bare` task queue, with the service worker's sandbox and poller settings."""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.worker import Worker

from bench.bare import Bare, noop
from bench.service_worker import poller_behavior
from core.settings import Settings
from core.temporal import connect
from worker.build import WORKFLOW_RUNNER


async def serve(poller: str) -> None:
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    client = await connect(Settings())
    async with Worker(
        client,
        task_queue="bare",
        workflows=[Bare],
        activities=[noop],
        workflow_runner=WORKFLOW_RUNNER,
        workflow_task_poller_behavior=poller_behavior(poller),
    ):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1] if len(sys.argv) > 1 else "simple:20"))
