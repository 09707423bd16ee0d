"""Loading the SLA policy and holidays files (workflows/sla.py:load_policy).

Every broken file must fail with a PolicyError naming the file and the key, cell or field
at fault; no broken file may load with fewer holidays or cells than it meant to have.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from workflows.domain import Plan, Severity
from workflows.sla import (
    DEFAULT_HOLIDAYS_PATH,
    DEFAULT_POLICY_PATH,
    DEFAULT_WARNING_THRESHOLD,
    PolicyError,
    SlaPolicy,
    attention_from,
    evaluate,
    load_policy,
)

MADRID = ZoneInfo("Europe/Madrid")
POLICY = load_policy()


def madrid(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=MADRID)


REG = madrid(2026, 3, 23, 10)  # a Monday, winter time (+01:00)


def test_policy_round_trips_through_json() -> None:
    assert SlaPolicy.model_validate(POLICY.model_dump(mode="json")) == POLICY
    again = SlaPolicy.model_validate_json(POLICY.model_dump_json())
    assert again == POLICY
    registered = madrid(2026, 12, 7, 19)
    assert evaluate(again, Plan.FREE, Severity.B, registered) == evaluate(
        POLICY, Plan.FREE, Severity.B, registered
    )


def test_policy_without_every_cell_is_invalid() -> None:
    data = POLICY.model_dump(mode="json")
    del data["cells"]["estandar"]["C"]
    with pytest.raises(ValidationError, match="estandar/C"):
        SlaPolicy.model_validate(data)


POLICY_TEXT = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
HOLIDAYS_TEXT = DEFAULT_HOLIDAYS_PATH.read_text(encoding="utf-8")


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BASICO_B = '[cells.basico.B]\navailability = "24/7"\ntarget = "next_day"\n'
PREMIUM_A = '[cells.premium.A]\navailability = "24/7"\ntarget = "1h"\n'

POLICY_ERRORS = [
    # id, edit, cell, field, message fragment
    ("missing-cell", lambda t: _replace(t, BASICO_B, ""), "basico/B", None, "missing"),
    (
        "availability",
        lambda t: _replace(t, BASICO_B, BASICO_B.replace('"24/7"', '"24x7"')),
        "basico/B",
        "availability",
        "'24x7'",
    ),
    (
        "target",
        lambda t: _replace(t, BASICO_B, BASICO_B.replace('"next_day"', '"3x"')),
        "basico/B",
        "target",
        "cell basico/B, field target: '3x' is not 1h/2h/4h/next_day or <n>s|m|h",
    ),
    (
        "target-zero",
        lambda t: _replace(t, PREMIUM_A, PREMIUM_A.replace('"1h"', '"0h"')),
        "premium/A",
        "target",
        "'0h'",
    ),
    (
        "cell-threshold",
        lambda t: _replace(t, PREMIUM_A, PREMIUM_A + "warning_threshold = 1.5\n"),
        "premium/A",
        "warning_threshold",
        "1.5",
    ),
    (
        "cell-threshold-bool",
        lambda t: _replace(t, PREMIUM_A, PREMIUM_A + "warning_threshold = true\n"),
        "premium/A",
        "warning_threshold",
        "True",
    ),
    (
        "default-threshold",
        lambda t: _replace(t, "warning_threshold = 0.75", "warning_threshold = 0"),
        None,
        "warning_threshold",
        "between 0 and 1",
    ),
    (
        "typo-field",
        lambda t: _replace(t, BASICO_B, BASICO_B.replace("target", "tagret")),
        "basico/B",
        "tagret",
        "Extra inputs",
    ),
    (
        "unknown-plan",
        lambda t: t + '\n[cells.gold.A]\navailability = "24/7"\ntarget = "1h"\n',
        "gold",
        None,
        "plans are free, basico, estandar, premium",
    ),
    (
        "unknown-severity",
        lambda t: t + '\n[cells.premium.D]\navailability = "24/7"\n',
        "premium/D",
        None,
        "severities A, B, C",
    ),
    (
        "timezone",
        lambda t: _replace(t, '"Europe/Madrid"', '"Europe/Madird"'),
        None,
        "timezone",
        "'Europe/Madird' is not an IANA time zone",
    ),
    (
        "hours-end",
        lambda t: _replace(t, 'end = "18:00"', 'end = "08:00"'),
        None,
        "business_hours.end",
        "after start",
    ),
    (
        "weekdays",
        lambda t: _replace(t, "weekdays = [1, 2, 3, 4, 5]", "weekdays = [0, 1]"),
        None,
        "business_hours.weekdays",
        "ISO weekdays",
    ),
    (
        "toml-syntax",
        lambda t: _replace(t, BASICO_B, BASICO_B.replace('"next_day"', '"next_day')),
        None,
        None,
        "not valid TOML",
    ),
]


@pytest.mark.parametrize(
    ("edit", "cell", "field", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in POLICY_ERRORS],
)
def test_bad_policy_file_names_cell_and_field(
    tmp_path: Path, edit: Any, cell: str | None, field: str | None, fragment: str
) -> None:
    path = tmp_path / "sla-policy.toml"
    path.write_text(edit(POLICY_TEXT), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.path, err.cell, err.field) == (str(path), cell, field)
    assert fragment in str(err)
    assert str(err).startswith(f"{path}: ")


def test_bad_target_message_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "sla-policy.toml"
    path.write_text(_replace(POLICY_TEXT, BASICO_B, BASICO_B.replace('"next_day"', '"3x"')))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == (
        f"{path}: cell basico/B, field target: '3x' is not 1h/2h/4h/next_day or <n>s|m|h"
    )


HOLIDAY_ERRORS = [
    ("date-string", '"2026-13-01"', "date", "2026-13-01"),
    ("date-invalid-toml", "2026-02-30", None, "not valid TOML"),
    ("date-with-time", "2026-01-01T10:00:00", "date", "[[holiday]] #1"),
]


@pytest.mark.parametrize(
    ("bad_date", "field", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in HOLIDAY_ERRORS],
)
def test_bad_holiday_file_names_the_field(
    tmp_path: Path, bad_date: str, field: str | None, fragment: str
) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(_replace(HOLIDAYS_TEXT, "date = 2026-01-01", f"date = {bad_date}"))
    with pytest.raises(PolicyError) as info:
        load_policy(None, path)
    assert (info.value.path, info.value.cell, info.value.field) == (str(path), None, field)
    assert fragment in str(info.value)


def test_holiday_file_needs_a_calendar_name_and_names(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(_replace(HOLIDAYS_TEXT, 'calendar = "es-nacional"', ""))
    with pytest.raises(PolicyError) as info:
        load_policy(None, path)
    assert info.value.field == "calendar"
    path.write_text(_replace(HOLIDAYS_TEXT, 'name = "Año Nuevo"', 'name = ""'))
    with pytest.raises(PolicyError) as info:
        load_policy(None, path)
    assert info.value.field == "name"


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read") as info:
        load_policy(tmp_path / "nope.toml")
    assert info.value.path == str(tmp_path / "nope.toml")


def test_custom_holidays_change_the_calendar(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text('calendar = "test"\n[[holiday]]\ndate = 2026-11-30\nname = "Fiesta local"\n')
    policy = load_policy(None, path)
    assert policy.calendar == "test"
    assert attention_from(policy, madrid(2026, 11, 27, 19)) == madrid(2026, 12, 1, 9)
    assert attention_from(policy, madrid(2026, 12, 7, 19)) == madrid(2026, 12, 8, 9)


def test_file_default_threshold_applies_unless_a_cell_overrides_it(tmp_path: Path) -> None:
    text = _replace(POLICY_TEXT, "warning_threshold = 0.75", "warning_threshold = 0.5")
    text = _replace(text, PREMIUM_A, PREMIUM_A + "warning_threshold = 0.9\n")
    path = tmp_path / "sla-policy.toml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert policy.cell(Plan.PREMIUM, Severity.A).warning_threshold == 0.9
    assert policy.cell(Plan.ESTANDAR, Severity.A).warning_threshold == 0.5
    c = evaluate(policy, Plan.ESTANDAR, Severity.C, REG)
    assert c.warning_at == madrid(2026, 3, 23, 12)


# ----------------------------------------------------------- small files written per test

ONE_HOLIDAY = 'calendar = "test"\n\n[[holiday]]\ndate = 2026-12-08\nname = "Inmaculada"\n'


def policy_text(
    *, threshold: str | None = None, plans: Iterable[Plan] = tuple(Plan), cells: bool = True
) -> str:
    """A minimal policy: every cell of `plans` 24/7 with a 1h target."""
    text = 'version = "test"\ntimezone = "Europe/Madrid"\n'
    if threshold is not None:
        text += f"warning_threshold = {threshold}\n"
    text += '\n[business_hours]\nstart = "09:00"\nend = "18:00"\nweekdays = [1, 2, 3, 4, 5]\n'
    for plan in plans if cells else ():
        for severity in Severity:
            text += f'\n[cells.{plan}.{severity}]\navailability = "24/7"\ntarget = "1h"\n'
    return text


def write(tmp_path: Path, policy: str = "", holidays: str = ONE_HOLIDAY) -> tuple[Path, Path]:
    policy_path, holidays_path = tmp_path / "sla-policy.toml", tmp_path / "holidays.toml"
    policy_path.write_text(policy or policy_text(), encoding="utf-8")
    holidays_path.write_text(holidays, encoding="utf-8")
    return policy_path, holidays_path


def load_error(paths: tuple[Path, Path]) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy(*paths)
    return info.value


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param(ONE_HOLIDAY.replace("[[holiday]]", "[[holidays]]"), "holidays", id="plural"),
        pytest.param(ONE_HOLIDAY.replace("[[holiday]]", "[[Holiday]]"), "Holiday", id="case"),
        pytest.param("region = 'MD'\n" + ONE_HOLIDAY, "region", id="unknown-key"),
        pytest.param("z = 1\na = 2\n" + ONE_HOLIDAY, "a, z", id="two-keys"),
    ],
)
def test_unknown_key_in_holidays_file_is_named(tmp_path: Path, text: str, key: str) -> None:
    policy_path, holidays_path = write(tmp_path, holidays=text)
    err = load_error((policy_path, holidays_path))
    assert (err.path, err.cell, err.field) == (str(holidays_path), None, key)
    assert str(err) == (
        f"{holidays_path}: field {key}: "
        "unexpected key; only `calendar` and [[holiday]] tables belong here"
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('calendar = "test"\n', id="no-holiday"),
        pytest.param('calendar = "test"\n# [[holiday]]\n# date = 2026-12-08\n', id="commented"),
        pytest.param("", id="empty-file"),
    ],
)
def test_holidays_file_without_holidays_is_an_error(tmp_path: Path, text: str) -> None:
    policy_path, holidays_path = write(tmp_path, holidays=text)
    err = load_error((policy_path, holidays_path))
    assert (err.path, err.cell, err.field) == (str(holidays_path), None, "holiday")
    assert "write `holiday = []` for a calendar without holidays" in str(err)


def test_an_explicitly_empty_holiday_list_means_no_holidays(tmp_path: Path) -> None:
    with_one = load_policy(*write(tmp_path))
    assert [h.date.isoformat() for h in with_one.holidays] == ["2026-12-08"]
    none = load_policy(*write(tmp_path, holidays='calendar = "none"\nholiday = []\n'))
    assert none.holidays == []
    # Tuesday 8 December is a holiday on the first calendar and a working day on the second.
    assert attention_from(with_one, madrid(2026, 12, 7, 19)) == madrid(2026, 12, 9, 9)
    assert attention_from(none, madrid(2026, 12, 7, 19)) == madrid(2026, 12, 8, 9)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('calendar = "other"\n', "calendar"),
        ('[[holidays]]\ndate = 2026-12-25\nname = "Navidad"\n', "holidays"),
        ('[[holiday]]\ndate = 2026-12-25\nname = "Navidad"\n', "holiday"),
    ],
)
def test_holiday_keys_in_the_policy_file_are_errors(tmp_path: Path, extra: str, key: str) -> None:
    # A table must come last, a plain key first, or TOML reads them differently.
    text = policy_text() + "\n" + extra if extra.startswith("[") else extra + policy_text()
    policy_path, holidays_path = write(tmp_path, text)
    err = load_error((policy_path, holidays_path))
    assert (err.path, err.cell, err.field) == (str(policy_path), None, key)
    assert str(err) == f"{policy_path}: field {key}: belongs in the holidays file"


def test_file_threshold_is_optional_and_defaults_to_three_quarters(tmp_path: Path) -> None:
    assert DEFAULT_WARNING_THRESHOLD == 0.75
    without = load_policy(*write(tmp_path, policy_text()))
    assert {without.cell(p, s).warning_threshold for p in Plan for s in Severity} == {0.75}
    for plan in Plan:
        c = evaluate(without, plan, Severity.A, REG)
        assert c.warning_at == REG + timedelta(minutes=45)
        assert c.response_due == REG + timedelta(hours=1)
    assert load_policy(*write(tmp_path, policy_text(threshold="0.75"))) == without


@pytest.mark.parametrize(("threshold", "minutes"), [("0.5", 30), ("0.9", 54), ("1e-1", 6)])
def test_file_threshold_applies_to_every_cell(tmp_path: Path, threshold: str, minutes: int) -> None:
    policy = load_policy(*write(tmp_path, policy_text(threshold=threshold)))
    thresholds = {policy.cell(p, s).warning_threshold for p in Plan for s in Severity}
    assert thresholds == {float(threshold)}
    for plan in Plan:
        c = evaluate(policy, plan, Severity.C, REG)
        assert c.warning_at == REG + timedelta(minutes=minutes)


def _without(plan: Plan, extra: str = "") -> str:
    return policy_text(plans=[p for p in Plan if p is not plan]) + extra


MISSING_CELLS = [
    *(pytest.param(_without(p), f"{p}/A", None, f"[cells.{p}.A]", id=f"no-{p}") for p in Plan),
    pytest.param(_without(Plan.PREMIUM, "\n[cells.premium]\n"), "premium/A", None, "", id="empty"),
    pytest.param(policy_text(cells=False), None, "cells", "tables", id="no-cells"),
    pytest.param('cells = "all"\n' + policy_text(cells=False), None, "cells", "", id="not-table"),
]


@pytest.mark.parametrize(("text", "cell", "field", "table"), MISSING_CELLS)
def test_missing_plans_and_cells_are_named(
    tmp_path: Path, text: str, cell: str | None, field: str | None, table: str
) -> None:
    policy_path, holidays_path = write(tmp_path, text)
    err = load_error((policy_path, holidays_path))
    assert (err.path, err.cell, err.field) == (str(policy_path), cell, field)
    where = f"cell {cell}" if cell else f"field {field}"
    assert str(err).startswith(f"{policy_path}: {where}: missing ")
    assert table in str(err)
