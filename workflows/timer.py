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

# Cases past this marker never take a fired timer's deadline as not yet due (`now`).
FIRED_TIMER_IS_DUE = "fired-timer-is-due"


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

    def now(self) -> datetime:
        """`workflow.now()`, but never before the instant of the timer that has fired.

        Temporal fires a timer at or after its instant, yet after a restart of the server
        the task that delivers it was seen to carry the time of the last task before the
        restart. Taken as is, that time finds nothing due and arms a new timer as long
        as the first one: a breach due during the restart would fire an hour late.
        """
        now = self._at if self.fired else None
        if now is not None and workflow.now() < now and workflow.patched(FIRED_TIMER_IS_DUE):
            return now
        return workflow.now()

    def arm(self, at: datetime | None, label: str) -> None:
        """Wait for `at` (None: for nothing); a no-op while `at` is what is awaited."""
        if at == self._at and not self.fired:
            return
        now = self.now()
        self.cancel()
        self._at, self.fired = at, False
        if at is not None:
            self._task = asyncio.create_task(self._sleep(at, label, now))

    def cancel(self) -> None:
        """Stop the running timer: when the instant moves, and when the case ends, so a completed
        workflow leaves no timer behind.
        """
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _sleep(self, at: datetime, label: str, now: datetime) -> None:
        left = (at - now).total_seconds()
        if left > 0:
            await workflow.sleep(left, summary=label)
        self.fired = True
