"""One durable timer for a case's earliest deadline, restarted only when that moves.

Every change to a case (a contact, a note) used to cancel and restart the deadline
timer, two history events each time although the deadline had not moved. This keeps
the timer running while its instant stays the same, so a case's history grows only
with what happened to it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow


class DeadlineTimer:
    """The case's single durable timer, kept while its instant stays the same.

    Restarting a timer on every change costs two history events, and switching a
    `wait_condition` timeout on and off is not replay-safe, so the workflow keeps this one
    timer task and replaces it only when the earliest deadline moves; `fired` tells the loop.
    """

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self.fired = False

    def arm(self, at: datetime | None, label: str) -> None:
        """Wait for `at` (None: for nothing); a no-op while `at` is what is awaited."""
        if at == self._at and not self.fired:
            return
        self.cancel()
        self._at, self.fired = at, False
        if at is not None:
            self._task = asyncio.create_task(self._sleep(at, label))

    def cancel(self) -> None:
        """Stop the running timer: when the instant moves, and when the case ends, so a completed
        workflow leaves no timer behind.
        """
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _sleep(self, at: datetime, label: str) -> None:
        left = (at - workflow.now()).total_seconds()
        if left > 0:
            await workflow.sleep(left, summary=label)
        self.fired = True
