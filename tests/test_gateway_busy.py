"""The read after an intake or an action waits while Temporal says the case is busy, or
while an overloaded worker fails the query; past the wait it is a 503, never a 500."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Unavailable
from api.workflow_gateway import read_state


class Handle:
    """A workflow handle whose first `busy` queries are refused as BusyWorkflow."""

    id = "CASE-000001"

    def __init__(self, busy: int, status: RPCStatusCode = RPCStatusCode.RESOURCE_EXHAUSTED):
        self.busy, self.status, self.calls = busy, status, 0

    async def query(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.calls <= self.busy:
            raise RPCError("consistent query buffer is full", self.status, b"")
        return "the case"


class Overloaded(Handle):
    """A worker too loaded to answer: its task ran over 2 s, so the query failed."""

    async def query(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.calls <= self.busy:
            raise WorkflowQueryFailedError("[TMPRL1101] Potential deadlock detected")
        return "the case"


async def test_a_busy_workflow_is_asked_again() -> None:
    handle = Handle(busy=3)
    state: object = await read_state(handle, timedelta(seconds=5))  # type: ignore[arg-type]
    assert state == "the case"
    assert handle.calls == 4


async def test_other_errors_are_not_retried() -> None:
    handle = Handle(busy=1, status=RPCStatusCode.NOT_FOUND)
    with pytest.raises(RPCError):
        await read_state(handle, timedelta(seconds=5))  # type: ignore[arg-type]
    assert handle.calls == 1


async def test_a_query_the_worker_failed_is_asked_again() -> None:
    handle = Overloaded(busy=2)
    state: object = await read_state(handle, timedelta(seconds=5))  # type: ignore[arg-type]
    assert state == "the case"
    assert handle.calls == 3


@pytest.mark.parametrize("kind", [Handle, Overloaded])
async def test_a_read_failing_past_the_wait_is_unavailable(kind: type[Handle]) -> None:
    handle = kind(busy=10**6)
    with pytest.raises(Unavailable, match="retry with the same request_id"):
        await read_state(handle, timedelta(seconds=0.3))  # type: ignore[arg-type]
    assert 1 < handle.calls < 10**6
