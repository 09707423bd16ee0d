"""The exact words of workflows/sla.py's errors, and the guards of its calendar.

test_sla_policy.py checks that each broken file names its file, cell and field; this
file pins the whole message where a wrong word or a wrong file would still pass there,
and the calendar's refusals: a timezone whose offset is unknown, a calendar without a
single business day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

from workflows.domain import Plan, Severity
from workflows.sla import PolicyError, SlaPolicy, evaluate, is_business_time, load_policy

POLICY = load_policy()
ONE_HOLIDAY = 'calendar = "test"\n\n[[holiday]]\ndate = 2026-12-08\nname = "Inmaculada"\n'
HEAD = 'version = "test"\ntimezone = "Europe/Madrid"\n'
HOURS = '\n[business_hours]\nstart = "09:00"\nend = "18:00"\nweekdays = [1, 2, 3, 4, 5]\n'
CELLS = "".join(
    f'\n[cells.{plan}.{severity}]\navailability = "24/7"\ntarget = "1h"\n'
    for plan in Plan
    for severity in Severity
)


def load_error(tmp_path: Path, policy: str, holidays: str = ONE_HOLIDAY) -> PolicyError:
    policy_path, holidays_path = tmp_path / "sla-policy.toml", tmp_path / "holidays.toml"
    policy_path.write_text(policy, encoding="utf-8")
    holidays_path.write_text(holidays, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(policy_path, holidays_path)
    return info.value


def test_an_error_without_a_place_is_only_its_message() -> None:
    err = PolicyError("boom")
    assert (str(err), err.path, err.cell, err.field) == ("boom", None, None, None)
    placed = PolicyError("boom", path=Path("p.toml"), cell="premium/A", field="target")
    assert str(placed) == "p.toml: cell premium/A, field target: boom"
    assert placed.path == "p.toml"


def test_an_unreadable_file_says_why_in_words(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope.toml")
    assert (
        str(info.value)
        == f"{tmp_path / 'nope.toml'}: cannot read the file: No such file or directory"
    )


@pytest.mark.parametrize("threshold", ["1", "1.5", '"0.5"', "true"])
def test_the_file_threshold_must_be_a_number_below_one(tmp_path: Path, threshold: str) -> None:
    err = load_error(tmp_path, f"{HEAD}warning_threshold = {threshold}\n{HOURS}{CELLS}")
    value = {"1": "1", "1.5": "1.5", '"0.5"': "'0.5'", "true": "True"}[threshold]
    assert (err.cell, err.field) == (None, "warning_threshold")
    assert str(err) == (
        f"{tmp_path / 'sla-policy.toml'}: field warning_threshold: "
        f"{value} is not a number strictly between 0 and 1"
    )


def test_a_missing_top_level_field_says_it_is_required(tmp_path: Path) -> None:
    err = load_error(tmp_path, f'timezone = "Europe/Madrid"\n{HOURS}{CELLS}')
    assert str(err) == f"{tmp_path / 'sla-policy.toml'}: field version: Field required"


def test_a_calendar_without_a_name_is_the_holidays_files_fault(tmp_path: Path) -> None:
    holidays = '[[holiday]]\ndate = 2026-12-08\nname = "Inmaculada"\n'
    err = load_error(tmp_path, f"{HEAD}{HOURS}{CELLS}", holidays)
    assert err.path == str(tmp_path / "holidays.toml")
    assert str(err) == (
        f"{tmp_path / 'holidays.toml'}: field calendar: None: Input should be a valid string"
    )


def test_holidays_that_are_not_a_list_of_tables(tmp_path: Path) -> None:
    holidays_path = tmp_path / "holidays.toml"
    err = load_error(tmp_path, f"{HEAD}{HOURS}{CELLS}", 'calendar = "x"\nholiday = 5\n')
    assert str(err) == f"{holidays_path}: 5: Input should be a valid list"
    err = load_error(tmp_path, f"{HEAD}{HOURS}{CELLS}", 'calendar = "x"\nholiday = [1]\n')
    assert str(err) == (
        f"{holidays_path}: [[holiday]] #1: 1: Input should be a valid dictionary or "
        "instance of Holiday"
    )
    assert err.field is None


def test_a_holidays_file_without_holidays_says_how_to_write_none(tmp_path: Path) -> None:
    err = load_error(tmp_path, f"{HEAD}{HOURS}{CELLS}", 'calendar = "x"\n')
    assert str(err) == (
        f"{tmp_path / 'holidays.toml'}: field holiday: no [[holiday]] tables; "
        "write `holiday = []` for a calendar without holidays"
    )


def test_every_misplaced_calendar_key_is_named(tmp_path: Path) -> None:
    err = load_error(tmp_path, f'{HEAD}calendar = "x"\nholidays = []\n{HOURS}{CELLS}')
    assert err.field == "calendar, holidays"


class _NoOffset(tzinfo):
    """A zone that does not know its offset: such a datetime is naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_an_instant_whose_zone_has_no_offset_is_naive() -> None:
    instant = datetime(2026, 11, 25, 10, tzinfo=_NoOffset())
    with pytest.raises(ValueError, match="is naive; pass a timezone-aware datetime"):
        is_business_time(POLICY, instant)
    with pytest.raises(ValueError, match="is naive"):
        evaluate(POLICY, Plan.FREE, Severity.B, instant)


def test_a_calendar_without_business_days_fails_instead_of_looping() -> None:
    start = date(2026, 11, 25)
    holidays = [
        {"date": (start + timedelta(days=n)).isoformat(), "name": "Cerrado"} for n in range(3700)
    ]
    data = POLICY.model_dump(mode="json") | {"holidays": holidays}
    closed = SlaPolicy.model_validate(data)
    registered = datetime(2026, 11, 25, 10, tzinfo=UTC)
    message = r"^no business hours within 3660 days of 2026-11-25 10:00:00\+00:00$"
    with pytest.raises(ValueError, match=message):
        evaluate(closed, Plan.FREE, Severity.B, registered)
