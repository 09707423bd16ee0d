"""The bare-Temporal reference: a workflow doing what a case does, minus the service.

An update-with-start answered after the first workflow task (`ready`), updates that
queue activities run behind them by one lane (`act`), and a durable timer that returns
how late it fired. Kept small and free of imports: the sandbox re-imports this module
for every workflow run, as it does `workflows.case` for the service.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def noop() -> None:
    return None


@workflow.defn(name="Bare")
class Bare:
    def __init__(self) -> None:
        self.queued = 0
        self.closed = False

    @workflow.run
    async def run(self, activities: int, sleep_until: float) -> float:
        """With `sleep_until` (epoch seconds), sleeps until then and returns how late it
        woke; otherwise runs `activities` plus what the updates queue, until closed."""
        if sleep_until:
            left = sleep_until - workflow.now().timestamp()
            if left > 0:
                await workflow.sleep(left)
            return workflow.now().timestamp() - sleep_until
        self.queued += activities
        done = 0
        while not (self.closed and self.queued == 0):
            await workflow.wait_condition(lambda: self.queued > 0 or self.closed)
            if self.queued:
                await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
                self.queued -= 1
                done += 1
        return float(done)

    @workflow.update
    def ready(self) -> int:
        return self.queued

    @workflow.update
    def act(self, activities: int, close: bool) -> int:
        self.queued += activities
        self.closed = close
        return self.queued
