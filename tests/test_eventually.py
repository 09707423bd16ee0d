"""eventually(): it waits for what a probe asserts, within its bound, and says why not."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.eventually import eventually


async def test_returns_what_the_probe_returned_once_it_holds() -> None:
    tries: list[int] = []

    async def third_time() -> str:
        tries.append(1)
        assert len(tries) >= 3, "not yet"
        return "here"

    assert await eventually(third_time, within=5, every=0.01) == "here"
    assert len(tries) == 3


async def test_fails_at_its_bound_with_the_last_assertion_and_the_context() -> None:
    async def never() -> None:
        raise AssertionError("the mail did not arrive")

    started = time.monotonic()
    with pytest.raises(AssertionError) as err:
        await eventually(never, within=0.3, every=0.01, context=lambda: "log: SMTP refused")
    assert 0.3 <= time.monotonic() - started < 2
    assert str(err.value) == "not within 0.3 s: the mail did not arrive\nlog: SMTP refused"


async def test_a_probe_that_hangs_is_bounded_too() -> None:
    async def hangs() -> None:
        await asyncio.sleep(60)

    with pytest.raises(AssertionError, match=r"^not within 0\.2 s: the probe never returned$"):
        await eventually(hangs, within=0.2)


async def test_any_other_error_fails_at_once() -> None:
    tries: list[int] = []

    async def broken() -> None:
        tries.append(1)
        raise KeyError("revision")

    with pytest.raises(KeyError):
        await eventually(broken, within=5)
    assert tries == [1]
