"""Every deadline of workflows/sla.py pinned to the second, whatever the machine's zone.

Each case registers one second before, exactly at and one second after an instant where
the answer changes (opening and closing time, the midnight, a DST change in
Europe/Madrid, a holiday) and compares ISO text, so a wrong offset fails as surely as a
wrong instant. Every test runs under foreign process zones (TZ + tzset): a conversion that
falls back on the machine's local zone gives the right answer on a UTC machine and only
shows up where local time is not UTC.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.domain import Plan, Severity
from workflows.sla import (
    Commitment,
    SlaPolicy,
    attention_from,
    evaluate,
    is_business_time,
    load_policy,
)

POLICY = load_policy()


@pytest.fixture(autouse=True, params=["Asia/Tokyo", "America/Los_Angeles"])
def process_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Ahead of and behind Madrid, and Los Angeles changes DST on other dates."""
    zone: str = request.param
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield zone
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_the_process_zone_is_really_foreign(process_zone: str) -> None:
    probe = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert probe.astimezone().utcoffset() == probe.astimezone(ZoneInfo(process_zone)).utcoffset()
    assert probe.astimezone().utcoffset() not in (timedelta(0), timedelta(hours=2))


def cell_policy(availability: str, target: str | None, threshold: float = 0.75) -> SlaPolicy:
    """The shipped policy (Madrid, 9-18 Monday-Friday, BOE holidays) with premium/A replaced."""
    data = POLICY.model_dump(mode="json")
    cell = {"availability": availability, "target": target, "warning_threshold": threshold}
    data["cells"]["premium"]["A"] = cell
    return SlaPolicy.model_validate(data)


def iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


Expect = tuple[str, str | None, str | None]  # attention_from, warning_at, response_due

# id, availability, target, the instant, then what registering 1 s before it, at it and
# 1 s after it gives. 2026-11-30 is a Monday; Tuesday 2026-12-08 is a holiday.
BOUNDARIES: list[tuple[str, str, str | None, str, tuple[Expect, Expect, Expect]]] = [
    ("1h-due-at-spring-forward", "24/7", "1h", "2026-03-29T01:00:00+01:00", (
        ("2026-03-29T00:59:59+01:00", "2026-03-29T01:44:59+01:00", "2026-03-29T01:59:59+01:00"),
        ("2026-03-29T01:00:00+01:00", "2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00"),
        ("2026-03-29T01:00:01+01:00", "2026-03-29T01:45:01+01:00", "2026-03-29T03:00:01+02:00"),
    )),
    ("1h-warning-at-fall-back", "24/7", "1h", "2026-10-25T02:15:00+02:00", (
        ("2026-10-25T02:14:59+02:00", "2026-10-25T02:59:59+02:00", "2026-10-25T02:14:59+01:00"),
        ("2026-10-25T02:15:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00"),
        ("2026-10-25T02:15:01+02:00", "2026-10-25T02:00:01+01:00", "2026-10-25T02:15:01+01:00"),
    )),
    ("next-day-at-midnight", "24/7", "next_day", "2026-03-24T00:00:00+01:00", (
        ("2026-03-23T23:59:59+01:00", "2026-03-24T17:59:59.750000+01:00",
         "2026-03-25T00:00:00+01:00"),
        ("2026-03-24T00:00:00+01:00", "2026-03-25T12:00:00+01:00", "2026-03-26T00:00:00+01:00"),
        ("2026-03-24T00:00:01+01:00", "2026-03-25T12:00:00.250000+01:00",
         "2026-03-26T00:00:00+01:00"),
    )),
    ("next-day-at-23-hour-day", "24/7", "next_day", "2026-03-29T00:00:00+01:00", (
        ("2026-03-28T23:59:59+01:00", "2026-03-29T18:14:59.750000+02:00",
         "2026-03-30T00:00:00+02:00"),
        ("2026-03-29T00:00:00+01:00", "2026-03-30T12:15:00+02:00", "2026-03-31T00:00:00+02:00"),
        ("2026-03-29T00:00:01+01:00", "2026-03-30T12:15:00.250000+02:00",
         "2026-03-31T00:00:00+02:00"),
    )),
    ("next-day-at-25-hour-day", "24/7", "next_day", "2026-10-25T00:00:00+02:00", (
        ("2026-10-24T23:59:59+02:00", "2026-10-25T17:44:59.750000+01:00",
         "2026-10-26T00:00:00+01:00"),
        ("2026-10-25T00:00:00+02:00", "2026-10-26T11:45:00+01:00", "2026-10-27T00:00:00+01:00"),
        ("2026-10-25T00:00:01+02:00", "2026-10-26T11:45:00.250000+01:00",
         "2026-10-27T00:00:00+01:00"),
    )),
    ("opening", "business_hours", None, "2026-11-30T09:00:00+01:00", (
        ("2026-11-30T09:00:00+01:00", None, None),
        ("2026-11-30T09:00:00+01:00", None, None),
        ("2026-11-30T09:00:01+01:00", None, None),
    )),
    ("closing", "business_hours", None, "2026-11-30T18:00:00+01:00", (
        ("2026-11-30T17:59:59+01:00", None, None),
        ("2026-12-01T09:00:00+01:00", None, None),
        ("2026-12-01T09:00:00+01:00", None, None),
    )),
    ("opening-on-a-holiday", "business_hours", None, "2026-12-08T09:00:00+01:00", (
        ("2026-12-09T09:00:00+01:00", None, None),
        ("2026-12-09T09:00:00+01:00", None, None),
        ("2026-12-09T09:00:00+01:00", None, None),
    )),
    ("1h-due-at-closing-before-holiday", "business_hours", "1h", "2026-12-07T17:00:00+01:00", (
        ("2026-12-07T16:59:59+01:00", "2026-12-07T17:44:59+01:00", "2026-12-07T17:59:59+01:00"),
        ("2026-12-07T17:00:00+01:00", "2026-12-07T17:45:00+01:00", "2026-12-07T18:00:00+01:00"),
        ("2026-12-07T17:00:01+01:00", "2026-12-07T17:45:01+01:00", "2026-12-09T09:00:01+01:00"),
    )),
    ("2h-over-spring-forward-weekend", "business_hours", "2h", "2026-03-27T17:00:00+01:00", (
        ("2026-03-27T16:59:59+01:00", "2026-03-30T09:29:59+02:00", "2026-03-30T09:59:59+02:00"),
        ("2026-03-27T17:00:00+01:00", "2026-03-30T09:30:00+02:00", "2026-03-30T10:00:00+02:00"),
        ("2026-03-27T17:00:01+01:00", "2026-03-30T09:30:01+02:00", "2026-03-30T10:00:01+02:00"),
    )),
    ("2h-over-fall-back-weekend", "business_hours", "2h", "2026-10-23T17:00:00+02:00", (
        ("2026-10-23T16:59:59+02:00", "2026-10-26T09:29:59+01:00", "2026-10-26T09:59:59+01:00"),
        ("2026-10-23T17:00:00+02:00", "2026-10-26T09:30:00+01:00", "2026-10-26T10:00:00+01:00"),
        ("2026-10-23T17:00:01+02:00", "2026-10-26T09:30:01+01:00", "2026-10-26T10:00:01+01:00"),
    )),
    ("next-day-at-closing", "business_hours", "next_day", "2026-11-30T18:00:00+01:00", (
        ("2026-11-30T17:59:59+01:00", "2026-12-01T15:44:59.750000+01:00",
         "2026-12-01T18:00:00+01:00"),
        ("2026-12-01T09:00:00+01:00", "2026-12-02T13:30:00+01:00", "2026-12-02T18:00:00+01:00"),
        ("2026-12-01T09:00:00+01:00", "2026-12-02T13:30:00+01:00", "2026-12-02T18:00:00+01:00"),
    )),
    ("next-day-at-closing-before-holiday", "business_hours", "next_day",
     "2026-12-07T18:00:00+01:00", (
        ("2026-12-07T17:59:59+01:00", "2026-12-09T15:44:59.750000+01:00",
         "2026-12-09T18:00:00+01:00"),
        ("2026-12-09T09:00:00+01:00", "2026-12-10T13:30:00+01:00", "2026-12-10T18:00:00+01:00"),
        ("2026-12-09T09:00:00+01:00", "2026-12-10T13:30:00+01:00", "2026-12-10T18:00:00+01:00"),
    )),
]  # fmt: skip


@pytest.mark.parametrize(
    ("availability", "target", "instant", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in BOUNDARIES],
)
def test_deadlines_one_second_around_their_instant(
    availability: str,
    target: str | None,
    instant: str,
    expected: tuple[Expect, Expect, Expect],
) -> None:
    policy = cell_policy(availability, target)
    at = datetime.fromisoformat(instant)
    for step, expect in zip((-1, 0, 1), expected, strict=True):
        registered = at + timedelta(seconds=step)
        c = evaluate(policy, Plan.PREMIUM, Severity.A, registered)
        got = (c.attention_from.isoformat(), iso(c.warning_at), iso(c.response_due))
        assert got == expect, f"registered at {registered.isoformat()}"
        assert c.committed is (target is not None)
        if availability == "business_hours":  # a 24/7 cell's attention is registration
            assert attention_from(policy, registered).isoformat() == expect[0]


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        ("2026-11-30T09:00:00+01:00", (False, True, True)),
        ("2026-11-30T18:00:00+01:00", (True, False, False)),
        ("2026-06-01T09:00:00+02:00", (False, True, True)),  # summer time
        ("2026-06-01T18:00:00+02:00", (True, False, False)),
        ("2026-12-08T09:00:00+01:00", (False, False, False)),  # holiday
        ("2026-12-08T18:00:00+01:00", (False, False, False)),
        ("2026-11-28T09:00:00+01:00", (False, False, False)),  # Saturday
    ],
)
def test_business_time_one_second_around_opening_and_closing(
    instant: str, inside: tuple[bool, bool, bool]
) -> None:
    at = datetime.fromisoformat(instant)
    got = tuple(is_business_time(POLICY, at + timedelta(seconds=s)) for s in (-1, 0, 1))
    assert got == inside


# availability, target, threshold, registered, then warning_at and response_due. The
# clamp keeps the warning at least 1 µs after the window opens and 1 µs before it closes
# where window x threshold would round onto either end; 1.6e-6 shows it acts only there.
MONDAY, FRIDAY_CLOSING, FRIDAY_NIGHT = (
    "2026-03-23T10:00:00+01:00",
    "2026-11-27T17:59:59.500000+01:00",
    "2026-11-27T20:00:00+01:00",
)
WARNINGS = [
    ("24/7", "1h", 0.5, MONDAY, "2026-03-23T10:30:00+01:00", "2026-03-23T11:00:00+01:00"),
    ("24/7", "1s", 1 / 3, MONDAY, "2026-03-23T10:00:00.333333+01:00", "2026-03-23T10:00:01+01:00"),
    ("24/7", "1s", 1e-9, MONDAY, "2026-03-23T10:00:00.000001+01:00", "2026-03-23T10:00:01+01:00"),
    ("24/7", "1s", 4e-7, MONDAY, "2026-03-23T10:00:00.000001+01:00", "2026-03-23T10:00:01+01:00"),
    ("24/7", "1s", 1.6e-6, MONDAY, "2026-03-23T10:00:00.000002+01:00", "2026-03-23T10:00:01+01:00"),
    ("24/7", "1s", 1 - 1e-9, MONDAY, "2026-03-23T10:00:00.999999+01:00",
     "2026-03-23T10:00:01+01:00"),
    ("24/7", "1s", 1 - 4e-7, MONDAY, "2026-03-23T10:00:00.999999+01:00",
     "2026-03-23T10:00:01+01:00"),
    ("24/7", "1s", 1 - 1.6e-6, MONDAY, "2026-03-23T10:00:00.999998+01:00",
     "2026-03-23T10:00:01+01:00"),
    ("24/7", "1h", 1e-12, MONDAY, "2026-03-23T10:00:00.000001+01:00", "2026-03-23T11:00:00+01:00"),
    ("24/7", "1h", 1 - 1e-12, MONDAY, "2026-03-23T10:59:59.999999+01:00",
     "2026-03-23T11:00:00+01:00"),
    # Half a second before closing on Friday: the 1 s window ends on Monday morning.
    ("business_hours", "1s", 1e-9, FRIDAY_CLOSING, "2026-11-27T17:59:59.500001+01:00",
     "2026-11-30T09:00:00.500000+01:00"),
    ("business_hours", "1s", 1 - 1e-9, FRIDAY_CLOSING, "2026-11-30T09:00:00.499999+01:00",
     "2026-11-30T09:00:00.500000+01:00"),
    # Friday night: the window opens on Monday at 09:00.
    ("business_hours", "1h", 1e-12, FRIDAY_NIGHT, "2026-11-30T09:00:00.000001+01:00",
     "2026-11-30T10:00:00+01:00"),
    ("business_hours", "1h", 1 - 1e-12, FRIDAY_NIGHT, "2026-11-30T09:59:59.999999+01:00",
     "2026-11-30T10:00:00+01:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("availability", "target", "threshold", "registered", "warning", "due"), WARNINGS
)
def test_warning_instant_at_any_threshold(
    availability: str, target: str, threshold: float, registered: str, warning: str, due: str
) -> None:
    policy = cell_policy(availability, target, threshold)
    c = evaluate(policy, Plan.PREMIUM, Severity.A, datetime.fromisoformat(registered))
    assert (iso(c.warning_at), iso(c.response_due)) == (warning, due)
    assert c.warning_at is not None
    assert c.response_due is not None
    assert c.attention_from < c.warning_at < c.response_due


def test_commitment_round_trips_with_local_offsets() -> None:
    registered = datetime(2026, 7, 1, 10, tzinfo=ZoneInfo("Europe/Madrid"))
    c = evaluate(POLICY, Plan.ESTANDAR, Severity.C, registered)
    dumped = c.model_dump(mode="json")
    assert dumped["response_due"] == "2026-07-01T14:00:00+02:00"
    assert Commitment.model_validate(dumped) == c
