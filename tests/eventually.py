"""`eventually()`: what the tests wait for, bounded, with the reason when it never came.

Things that follow an answer (the read model, mails, log lines, visibility) arrive a
little later; a test states what it waits for as a probe that asserts it, as
sdk-python's `assert_eventually` does, instead of a hand-written polling loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    within: float = 20,
    every: float = 0.05,
    context: Callable[[], str] | None = None,
) -> T:
    """Awaits `probe()` until it returns without an AssertionError, and returns its value.

    Args:
        probe: asserts what the test waits for; an AssertionError means "not yet", any
            other error fails at once.
        within: seconds before giving up, a probe still running included; the failure
            then carries the probe's last assertion message.
        every: seconds between tries.
        context: what else the failure should show (a child process's last log lines).
    """
    last: AssertionError | None = None
    bound = asyncio.timeout(within)
    try:
        async with bound:
            while True:
                try:
                    return await probe()
                except AssertionError as not_yet:
                    last = not_yet
                await asyncio.sleep(every)
    except TimeoutError:
        if not bound.expired():
            raise
    reason = str(last) if last is not None else "the probe never returned"
    detail = f"\n{context()}" if context is not None else ""
    raise AssertionError(f"not within {within:g} s: {reason}{detail}") from last
