"""The SLA policy, its calendar and the commitments it gives (workflows/sla.py).

Loading and file errors are in test_sla_policy.py; every deadline pinned to the second,
the warning clamp and independence from the process's time zone in test_sla_deadlines.py.

The oracles here (holiday dates, working days, business hours) are written out
independently of the shipped TOML files, so a wrong file fails these tests too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workflows.sla as sla_module
from workflows.domain import Availability, Plan, Severity
from workflows.sla import (
    DEFAULT_HOLIDAYS_PATH,
    DEFAULT_POLICY_PATH,
    Commitment,
    PolicyCell,
    SlaPolicy,
    attention_from,
    evaluate,
    is_business_time,
    load_policy,
)

MADRID = ZoneInfo("Europe/Madrid")
POLICY = load_policy()
H = timedelta(hours=1)

# Fiestas nacionales comunes 2026-2027 (BOE); Viernes Santo from Easter 2026-04-05 and
# 2027-03-28.
HOLIDAYS = {
    date(y, m, d)
    for y in (2026, 2027)
    for m, d in [(1, 1), (1, 6), (5, 1), (8, 15), (10, 12), (11, 1), (12, 6), (12, 8), (12, 25)]
} | {date(2026, 4, 3), date(2027, 3, 26)}


def madrid(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=MADRID)


def working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def business_oracle(instant: datetime) -> bool:
    local = instant.astimezone(MADRID)
    return working_day(local.date()) and time(9) <= local.time() < time(18)


def with_cell(plan: Plan, severity: Severity, **cell: Any) -> SlaPolicy:
    data = POLICY.model_dump(mode="json")
    data["cells"][plan.value][severity.value] = {"warning_threshold": 0.75, **cell}
    return SlaPolicy.model_validate(data)


# ----------------------------------------------------------------------------- the matrix

REG = madrid(2026, 3, 23, 10)  # a Monday, winter time (+01:00)

MATRIX = [
    # plan, severity, availability, target, due, warning
    (Plan.FREE, Severity.A, "24/7", "1h", madrid(2026, 3, 23, 11), madrid(2026, 3, 23, 10, 45)),
    (Plan.BASICO, Severity.A, "24/7", "1h", madrid(2026, 3, 23, 11), madrid(2026, 3, 23, 10, 45)),
    (Plan.ESTANDAR, Severity.A, "24/7", "1h", madrid(2026, 3, 23, 11), madrid(2026, 3, 23, 10, 45)),
    (Plan.PREMIUM, Severity.A, "24/7", "1h", madrid(2026, 3, 23, 11), madrid(2026, 3, 23, 10, 45)),
    (Plan.FREE, Severity.B, "business_hours", None, None, None),
    (Plan.BASICO, Severity.B, "24/7", "next_day", madrid(2026, 3, 25), madrid(2026, 3, 24, 14, 30)),
    (Plan.ESTANDAR, Severity.B, "24/7", "2h", madrid(2026, 3, 23, 12), madrid(2026, 3, 23, 11, 30)),
    (Plan.PREMIUM, Severity.B, "24/7", "2h", madrid(2026, 3, 23, 12), madrid(2026, 3, 23, 11, 30)),
    (Plan.FREE, Severity.C, "business_hours", None, None, None),
    (Plan.BASICO, Severity.C, "24/7", None, None, None),
    (Plan.ESTANDAR, Severity.C, "24/7", "4h", madrid(2026, 3, 23, 14), madrid(2026, 3, 23, 13)),
    (Plan.PREMIUM, Severity.C, "24/7", "4h", madrid(2026, 3, 23, 14), madrid(2026, 3, 23, 13)),
]


@pytest.mark.parametrize(
    ("plan", "severity", "availability", "target", "due", "warning"), MATRIX, ids=str
)
def test_matrix_cell(
    plan: Plan,
    severity: Severity,
    availability: str,
    target: str | None,
    due: datetime | None,
    warning: datetime | None,
) -> None:
    c = evaluate(POLICY, plan, severity, REG)
    assert c.policy_version == "2026-11-01"
    assert c.availability == Availability(availability)
    assert c.target == target
    assert c.committed is (target is not None)
    assert c.response_due == due
    assert c.warning_at == warning
    assert c.attention_from == REG  # a Monday at 10:00 is business time for every cell
    for value in (c.response_due, c.warning_at, c.attention_from):
        assert value is None or value.isoformat().endswith("+01:00")


def test_matrix_covers_twelve_cells() -> None:
    assert {(p, s) for p, s, *_ in MATRIX} == {(p, s) for p in Plan for s in Severity}


# ------------------------------------------------------------------------ concrete cases


def test_next_day_is_the_midnight_ending_the_following_day() -> None:
    c = evaluate(POLICY, Plan.BASICO, Severity.B, madrid(2026, 3, 23, 10))
    assert c.response_due == madrid(2026, 3, 25, 0)
    assert c.response_due is not None
    assert c.response_due.isoformat() == "2026-03-25T00:00:00+01:00"


@pytest.mark.parametrize(
    ("registered", "due_iso", "elapsed"),
    [
        (madrid(2026, 3, 28, 10), "2026-03-30T00:00:00+02:00", 37 * H),  # 23-hour Sunday
        (madrid(2026, 10, 24, 10), "2026-10-26T00:00:00+01:00", 39 * H),  # 25-hour Sunday
        (
            madrid(2026, 3, 28, 23, 59, 59),
            "2026-03-30T00:00:00+02:00",
            23 * H + timedelta(seconds=1),
        ),
    ],
)
def test_next_day_across_dst(registered: datetime, due_iso: str, elapsed: timedelta) -> None:
    c = evaluate(POLICY, Plan.BASICO, Severity.B, registered)
    assert c.response_due is not None
    assert c.response_due.isoformat() == due_iso
    assert c.response_due - registered == elapsed


def test_one_hour_across_spring_forward_is_one_elapsed_hour() -> None:
    registered = madrid(2026, 3, 29, 1, 30)  # 02:00 -> 03:00 at 01:00 UTC
    c = evaluate(POLICY, Plan.PREMIUM, Severity.A, registered)
    assert c.response_due is not None
    assert c.response_due.isoformat() == "2026-03-29T03:30:00+02:00"
    assert c.response_due.astimezone(UTC) - registered.astimezone(UTC) == H
    assert c.warning_at is not None
    assert c.warning_at.isoformat() == "2026-03-29T03:15:00+02:00"


def test_one_hour_across_fall_back_is_one_elapsed_hour() -> None:
    registered = madrid(2026, 10, 25, 2, 30)  # first 02:30 (+02:00); 03:00 -> 02:00
    c = evaluate(POLICY, Plan.PREMIUM, Severity.A, registered)
    assert c.response_due is not None
    assert c.response_due.isoformat() == "2026-10-25T02:30:00+01:00"  # the second 02:30
    assert c.response_due.astimezone(UTC) - registered.astimezone(UTC) == H
    assert c.warning_at is not None
    assert c.warning_at.isoformat() == "2026-10-25T02:15:00+01:00"
    assert registered < c.warning_at < c.response_due
    # Fixed offsets: no PEP 495 surprise in the repeated hour, and equal after JSON.
    assert c.response_due == registered.astimezone(UTC) + H
    assert Commitment.model_validate_json(c.model_dump_json()) == c
    two = evaluate(POLICY, Plan.PREMIUM, Severity.B, madrid(2026, 10, 25, 1, 30))
    assert two.response_due is not None
    assert two.response_due.isoformat() == "2026-10-25T02:30:00+01:00"


def test_registration_in_any_offset_gives_the_same_commitment_in_madrid_time() -> None:
    utc = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    other = utc.astimezone(timezone(timedelta(hours=-5)))
    a = evaluate(POLICY, Plan.ESTANDAR, Severity.B, utc)
    b = evaluate(POLICY, Plan.ESTANDAR, Severity.B, other)
    assert a == b
    assert a.response_due is not None
    assert a.response_due.isoformat() == "2026-07-01T12:00:00+02:00"
    assert a.attention_from.isoformat() == "2026-07-01T10:00:00+02:00"


@pytest.mark.parametrize(
    ("registered", "attention"),
    [
        (madrid(2026, 11, 27, 19), madrid(2026, 11, 30, 9)),  # Friday evening -> Monday
        (madrid(2026, 12, 7, 19), madrid(2026, 12, 9, 9)),  # Tue 8 Dec is a holiday
        (madrid(2026, 4, 2, 18, 30), madrid(2026, 4, 6, 9)),  # Viernes Santo, then weekend
        (madrid(2026, 12, 31, 20), madrid(2027, 1, 4, 9)),  # Año Nuevo (Fri), then weekend
        (madrid(2027, 1, 5, 18), madrid(2027, 1, 7, 9)),  # Epifanía (Wed)
        (madrid(2026, 11, 28, 12), madrid(2026, 11, 30, 9)),  # Saturday noon
        (madrid(2026, 11, 30, 8, 59, 59), madrid(2026, 11, 30, 9)),
        (madrid(2026, 11, 30, 9), madrid(2026, 11, 30, 9)),
        (madrid(2026, 11, 30, 17, 59, 59), madrid(2026, 11, 30, 17, 59, 59)),
        (madrid(2026, 11, 30, 18), madrid(2026, 12, 1, 9)),
    ],
    ids=str,
)
def test_free_attention_from(registered: datetime, attention: datetime) -> None:
    for severity in (Severity.B, Severity.C):
        c = evaluate(POLICY, Plan.FREE, severity, registered)
        assert c.attention_from == attention
        assert (c.committed, c.response_due, c.warning_at) == (False, None, None)
    assert attention_from(POLICY, registered) == attention


@pytest.mark.parametrize(
    ("clock", "inside"),
    [(time(8, 59, 59), False), (time(9), True), (time(17, 59, 59), True), (time(18), False)],
)
def test_business_hour_boundaries(clock: time, inside: bool) -> None:
    monday = datetime.combine(date(2026, 11, 30), clock, tzinfo=MADRID)
    assert is_business_time(POLICY, monday) is inside
    assert is_business_time(POLICY, monday + timedelta(days=5)) is False  # Saturday
    assert is_business_time(POLICY, datetime.combine(date(2026, 12, 8), clock, MADRID)) is False


def test_24_7_attention_is_registration_even_on_holidays() -> None:
    registered = madrid(2026, 12, 25, 3, 17)
    c = evaluate(POLICY, Plan.BASICO, Severity.C, registered)
    assert c.attention_from == registered
    assert c.committed is False


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 23, 10)
    with pytest.raises(ValueError, match="naive"):
        evaluate(POLICY, Plan.PREMIUM, Severity.A, naive)
    with pytest.raises(ValueError, match="naive"):
        attention_from(POLICY, naive)
    with pytest.raises(ValueError, match="naive"):
        is_business_time(POLICY, naive)


@pytest.mark.parametrize(
    ("target", "delta"),
    [("30s", timedelta(seconds=30)), ("2m", timedelta(minutes=2)), ("90m", 1.5 * H)],
)
def test_short_targets_for_test_policies(target: str, delta: timedelta) -> None:
    policy = with_cell(Plan.PREMIUM, Severity.A, availability="24/7", target=target)
    assert policy.cell(Plan.PREMIUM, Severity.A).target_delta == delta
    c = evaluate(policy, Plan.PREMIUM, Severity.A, REG)
    assert c.response_due == REG + delta
    assert c.warning_at == REG + delta * 0.75


def test_target_none_string_means_no_commitment() -> None:
    cell = PolicyCell.model_validate({"availability": "24/7", "target": "none"})
    assert cell.target is None
    assert cell.target_delta is None
    assert PolicyCell(availability=Availability.ALWAYS, target="next_day").target_delta is None


def test_business_hours_cell_with_a_target_counts_business_time() -> None:
    policy = with_cell(Plan.FREE, Severity.B, availability="business_hours", target="2h")
    # Friday 17:00: one hour on Friday, the second on Monday morning.
    c = evaluate(policy, Plan.FREE, Severity.B, madrid(2026, 11, 27, 17))
    assert c.attention_from == madrid(2026, 11, 27, 17)
    assert c.response_due == madrid(2026, 11, 30, 10)
    assert c.warning_at == madrid(2026, 11, 30, 9, 30)  # 1.5 business hours in
    # Registered at night before a holiday: the clock starts on the next working day.
    late = evaluate(policy, Plan.FREE, Severity.B, madrid(2026, 12, 7, 19))
    assert late.attention_from == madrid(2026, 12, 9, 9)
    assert late.response_due == madrid(2026, 12, 9, 11)
    # A 9-hour target fills exactly one business day.
    nine = with_cell(Plan.FREE, Severity.B, availability="business_hours", target="9h")
    assert evaluate(nine, Plan.FREE, Severity.B, madrid(2026, 11, 30, 9)).response_due == madrid(
        2026, 11, 30, 18
    )
    short = with_cell(Plan.FREE, Severity.B, availability="business_hours", target="30s")
    assert evaluate(
        short, Plan.FREE, Severity.B, madrid(2026, 11, 27, 17, 59, 45)
    ).response_due == madrid(2026, 11, 30, 9, 0, 15)


def test_business_hours_next_day_is_end_of_next_working_day() -> None:
    policy = with_cell(Plan.FREE, Severity.C, availability="business_hours", target="next_day")
    c = evaluate(policy, Plan.FREE, Severity.C, madrid(2026, 11, 27, 19))
    assert c.attention_from == madrid(2026, 11, 30, 9)
    assert c.response_due == madrid(2026, 12, 1, 18)
    assert c.warning_at is not None
    assert c.attention_from < c.warning_at < c.response_due
    assert is_business_time(policy, c.warning_at)


# --------------------------------------------------------------------------- properties

YEARS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31, 23))


def _around(start: datetime, days: int) -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=start, max_value=start + timedelta(days=days))


INSTANTS = st.one_of(
    YEARS,
    _around(datetime(2026, 3, 27), 4),  # spring forward 2026-03-29
    _around(datetime(2026, 10, 23), 4),  # fall back 2026-10-25
    _around(datetime(2027, 3, 26), 3),  # Viernes Santo + spring forward 2027-03-28
    _around(datetime(2026, 12, 4), 6),  # 6 and 8 December
    _around(datetime(2026, 12, 24), 12),  # Christmas, New Year, Epifanía
    _around(datetime(2026, 3, 31), 7),  # Semana Santa 2026
).map(lambda naive: naive.replace(tzinfo=UTC))  # any instant; shown in Madrid by evaluate

DURATION_CELLS = [(p, s) for p in Plan for s in Severity if POLICY.cell(p, s).target_delta]
COMMITTED_CELLS = [(p, s) for p in Plan for s in Severity if POLICY.cell(p, s).target]


@settings(max_examples=400, deadline=None)
@given(INSTANTS)
def test_duration_targets_are_exact_elapsed_time(registered: datetime) -> None:
    assert len(DURATION_CELLS) == 8
    for plan, severity in DURATION_CELLS:
        c = evaluate(POLICY, plan, severity, registered)
        assert c.response_due is not None
        assert c.response_due - registered == POLICY.cell(plan, severity).target_delta
        assert c.response_due.utcoffset() == c.response_due.astimezone(MADRID).utcoffset()
        assert c.response_due.isoformat() == c.response_due.astimezone(MADRID).isoformat()
        assert c.attention_from == registered


@settings(max_examples=400, deadline=None)
@given(INSTANTS)
def test_next_day_is_local_midnight_two_dates_later(registered: datetime) -> None:
    c = evaluate(POLICY, Plan.BASICO, Severity.B, registered)
    assert c.response_due is not None
    local_due = c.response_due.astimezone(MADRID)
    assert local_due.time() == time(0)
    assert local_due.date() == registered.astimezone(MADRID).date() + timedelta(days=2)
    # A 23-hour day (spring forward) can make it a little under 24 hours.
    assert 23 * H < c.response_due - registered <= 49 * H


@settings(max_examples=600, deadline=None)
@given(INSTANTS)
def test_attention_from_is_the_first_business_instant(registered: datetime) -> None:
    attention = attention_from(POLICY, registered)
    assert attention == evaluate(POLICY, Plan.FREE, Severity.B, registered).attention_from
    assert attention >= registered
    assert is_business_time(POLICY, attention)
    assert is_business_time(POLICY, registered) is business_oracle(registered)
    if business_oracle(registered):
        assert attention == registered
        return
    local = registered.astimezone(MADRID)
    local_attention = attention.astimezone(MADRID)
    assert local_attention.time() == time(9)
    if working_day(local.date()) and local.time() < time(9):
        assert local_attention.date() == local.date()
    else:
        expected = local.date() + timedelta(days=1)
        while not working_day(expected):
            expected += timedelta(days=1)
        assert local_attention.date() == expected


@settings(max_examples=400, deadline=None)
@given(INSTANTS)
def test_warning_is_strictly_inside_the_response_window(registered: datetime) -> None:
    for plan, severity in COMMITTED_CELLS:
        c = evaluate(POLICY, plan, severity, registered)
        assert c.response_due is not None
        assert c.warning_at is not None
        assert registered < c.warning_at < c.response_due
        assert c.warning_at == registered + (c.response_due - registered) * 0.75


@settings(max_examples=200, deadline=None)
@given(INSTANTS)
def test_business_cell_due_is_in_business_time(registered: datetime) -> None:
    policy = with_cell(Plan.FREE, Severity.B, availability="business_hours", target="4h")
    c = evaluate(policy, Plan.FREE, Severity.B, registered)
    assert c.response_due is not None
    assert c.warning_at is not None
    assert c.attention_from <= c.warning_at < c.response_due
    assert is_business_time(policy, c.response_due - timedelta(microseconds=1))
    assert c.response_due - c.attention_from >= 4 * H


# ------------------------------------------------------------------------ shipped files


def test_default_policy_loads_the_seed_matrix() -> None:
    shipped = Path(sla_module.__file__).parent / "policy"
    assert shipped / "sla-policy.toml" == DEFAULT_POLICY_PATH
    assert DEFAULT_HOLIDAYS_PATH.parent == DEFAULT_POLICY_PATH.parent
    assert POLICY.version == "2026-11-01"
    assert POLICY.timezone == "Europe/Madrid"
    assert POLICY.business_hours.start == time(9)
    assert POLICY.business_hours.end == time(18)
    assert POLICY.business_hours.weekdays == [1, 2, 3, 4, 5]
    assert sum(len(row) for row in POLICY.cells.values()) == 12
    assert all(POLICY.cell(p, s).warning_threshold == 0.75 for p in Plan for s in Severity)
    assert {h.date for h in POLICY.holidays} == HOLIDAYS
    assert all(h.name for h in POLICY.holidays)
    assert POLICY.calendar
