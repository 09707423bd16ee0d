"""Initial-response commitments (the seed's severity x plan matrix) and the business calendar.

Pure: no temporalio and no I/O at import, so the workflow imports it through
`workflow.unsafe.imports_passed_through()` and the ZoneInfo objects created here stay real
(the sandbox would proxy them otherwise). Instants are compared and added in UTC because
Python adds, subtracts and compares aware datetimes that share a tzinfo on the wall clock,
which is wrong across a DST change. Results carry the policy zone's offset at that instant
as a fixed offset (+01:00 / +02:00), not the ZoneInfo: arithmetic between them is then
exact, and they equal their own JSON round trip (PEP 495 makes an ambiguous ZoneInfo time
unequal to every datetime in another zone).

Rules:
- `<n>s|m|h` targets are elapsed time from registration ("1h" is 60 real minutes).
- `next_day` is due at the local midnight that starts the second day after registration.
- A business_hours cell counts from the first business instant (`attention_from`); if such
  a cell has a target, the target is counted in business time from there, and `next_day`
  means the end of business hours on the next working day.
- The warning comes after `warning_threshold` of the response window (business time for
  business_hours cells, so it never fires overnight), rounded to the microsecond and kept
  at least a microsecond inside the window. The policy file's top-level threshold is
  optional (default 0.75); a cell's own `warning_threshold` overrides it.
- The holidays file holds `calendar` and `[[holiday]]` tables only. Any other key (a typo
  such as `[[holidays]]`) or no `[[holiday]]` at all is an error, as TOML would otherwise
  load it with no holidays; a calendar without holidays says so with `holiday = []`.
  They (and `holidays`) are errors in the policy file, whose values would be replaced.
- Nothing reads the process's local zone (no argument-less `astimezone()`, no `now()`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from workflows.domain import Availability, Plan, ResponseTarget, Severity

DEFAULT_POLICY_PATH: Path = Path(__file__).parent / "policy" / "sla-policy.toml"
DEFAULT_HOLIDAYS_PATH: Path = Path(__file__).parent / "policy" / "holidays-es.toml"

_DURATION = re.compile(r"([1-9][0-9]{0,5})([smh])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_SHIPPED_TARGETS = "/".join(t.value for t in ResponseTarget)
# Bounds calendar walks, so a calendar without business days fails instead of looping.
_MAX_CALENDAR_DAYS = 3660
_US = timedelta(microseconds=1)
DEFAULT_WARNING_THRESHOLD = 0.75
_CALENDAR_KEYS = frozenset({"calendar", "holiday"})

# strict: a TOML `true` must not pass as 1.0 (it would fail later anyway, less clearly).
Threshold = Annotated[float, Field(strict=True, gt=0, lt=1)]


class PolicyError(ValueError):
    """A policy or holidays file that cannot be used, naming the file, cell and field."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        cell: str | None = None,
        field: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.cell = cell
        self.field = field
        where = ", ".join(w for w in (cell and f"cell {cell}", field and f"field {field}") if w)
        prefix = ": ".join(p for p in (self.path, where) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BusinessHours(_Frozen):
    """The policy's "horario comercial": local opening hours and the weekdays they apply on.

    The same hours every working day and no overnight windows, so a day has at most one
    business interval and the calendar walk stays simple.
    """

    start: time
    end: time  # exclusive
    weekdays: list[int]  # ISO, Monday = 1

    @field_validator("start", "end")
    @classmethod
    def _local_and_ordered(cls, value: time, info: ValidationInfo) -> time:
        if value.tzinfo is not None:
            raise ValueError(f"{value} must be a local time without an offset")
        start = info.data.get("start") if info.field_name == "end" else None
        if start is not None and not start < value:
            raise ValueError(f"{value} must be after start {start} (no overnight windows)")
        return value

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, value: list[int]) -> list[int]:
        if not value or len(set(value)) != len(value) or not all(1 <= d <= 7 for d in value):
            raise ValueError(f"{value} must be distinct ISO weekdays 1..7 (Monday = 1)")
        return value


class PolicyCell(_Frozen):
    """One cell of the seed's severity x plan matrix: availability and initial-response target.

    No target is the seed's "sin compromiso": such a case is never warned about or breached.
    """

    availability: Availability
    target: str | None = None  # None: "sin compromiso"
    warning_threshold: Threshold = DEFAULT_WARNING_THRESHOLD

    @field_validator("target", mode="before")
    @classmethod
    def _check_target(cls, value: object) -> object:
        if value is None or value == "none":
            return None
        if isinstance(value, str) and (
            value == ResponseTarget.NEXT_DAY or _DURATION.fullmatch(value)
        ):
            return value
        raise ValueError(f"{value!r} is not {_SHIPPED_TARGETS} or <n>s|m|h")

    @property
    def target_delta(self) -> timedelta | None:
        """The target as a duration; None for `next_day` and "sin compromiso" (not durations)."""
        match = _DURATION.fullmatch(self.target or "")
        if match is None:
            return None
        return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


class Holiday(_Frozen):
    """A day on which business-hours cells do not count, whatever its weekday."""

    date: date
    name: str = Field(min_length=1)


class SlaPolicy(_Frozen):
    """The SLA policy: the matrix, the business calendar and the time zone they are read in.

    Every case carries the policy it opened under in its workflow input, so editing the
    policy files changes new cases only; `version` tells which policy a case has.
    """

    version: str = Field(min_length=1)
    timezone: str
    business_hours: BusinessHours
    holidays: list[Holiday]
    calendar: str = Field(min_length=1)
    cells: dict[Plan, dict[Severity, PolicyCell]]
    _holiday_dates: frozenset[date] = PrivateAttr(default_factory=frozenset)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            _zone(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value

    @model_validator(mode="after")
    def _complete(self) -> SlaPolicy:
        missing = [f"{p}/{s}" for p in Plan for s in Severity if s not in self.cells.get(p, {})]
        if missing:
            raise ValueError(f"missing cells: {', '.join(missing)}")
        self._holiday_dates = frozenset(h.date for h in self.holidays)
        return self

    def cell(self, plan: Plan, severity: Severity) -> PolicyCell:
        """The matrix cell for `plan` and `severity`; validation guarantees all twelve exist."""
        return self.cells[plan][severity]

    def is_working_day(self, day: date) -> bool:
        """Whether business hours apply on `day`: a listed weekday that is not a holiday."""
        return day.isoweekday() in self.business_hours.weekdays and day not in self._holiday_dates


class Commitment(_Frozen):
    """What a case was promised at registration for its initial response.

    `attention_from` is when the case is attended (registration for 24/7 cells, the next
    business instant otherwise); `response_due` and `warning_at` are None when the cell has no
    target. Instants carry the policy zone's offset, and `policy_version` tells reports which
    policy applied.
    """

    policy_version: str
    availability: Availability
    target: str | None
    committed: bool
    response_due: datetime | None
    warning_at: datetime | None
    attention_from: datetime


# ---------------------------------------------------------------------------- calendar


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} is naive; pass a timezone-aware datetime")
    return instant.astimezone(UTC)


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    local = instant.astimezone(tz)
    return local.replace(tzinfo=timezone(local.utcoffset() or timedelta()), fold=0)


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    # fold=0 reads a wall time in a DST gap with the old offset, i.e. resolves it forward.
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def _window(policy: SlaPolicy, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    if not policy.is_working_day(day):
        return None
    hours = policy.business_hours
    return _at(day, hours.start, tz), _at(day, hours.end, tz)


def _intervals(policy: SlaPolicy, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business intervals (UTC) from `start` (UTC) on, the first one clipped to `start`."""
    tz = _zone(policy.timezone)
    day = start.astimezone(tz).date()
    for _ in range(_MAX_CALENDAR_DAYS):
        window = _window(policy, day, tz)
        if window is not None and window[1] > start:
            yield max(window[0], start), window[1]
        day += timedelta(days=1)
    raise ValueError(f"no business hours within {_MAX_CALENDAR_DAYS} days of {start}")


def _add_business(policy: SlaPolicy, start: datetime, amount: timedelta) -> datetime:
    remaining = amount
    for begin, end in _intervals(policy, start):
        if end - begin >= remaining:
            return begin + remaining
        remaining -= end - begin
    raise AssertionError("unreachable: _intervals raises when it runs out")


def business_between(policy: SlaPolicy, start: datetime, stop: datetime) -> timedelta:
    """Business time between two instants (the SLA report measures responses with it)."""
    total = timedelta()
    for begin, end in _intervals(policy, start):
        if begin >= stop:
            break
        total += min(end, stop) - begin
    return total


def is_business_time(policy: SlaPolicy, instant: datetime) -> bool:
    """Whether `instant` is inside business hours; the closing time itself is already outside."""
    tz = _zone(policy.timezone)
    moment = _utc(instant)
    window = _window(policy, moment.astimezone(tz).date(), tz)
    return window is not None and window[0] <= moment < window[1]


def attention_from(policy: SlaPolicy, instant: datetime) -> datetime:
    """The first instant at or after `instant` inside business hours, in the policy's zone."""
    return _local(next(_intervals(policy, _utc(instant)))[0], _zone(policy.timezone))


def _fraction(window: timedelta, threshold: float) -> timedelta:
    # timedelta * float is exact then rounds half-even; the clamp keeps the warning strictly
    # inside the window even for a tiny window or an extreme threshold.
    return min(max(window * threshold, _US), window - _US)


def _due(policy: SlaPolicy, cell: PolicyCell, start: datetime, business: bool) -> datetime | None:
    tz = _zone(policy.timezone)
    if cell.target is None:
        return None
    if cell.target == ResponseTarget.NEXT_DAY:
        day = start.astimezone(tz).date()
        if not business:
            return _at(day + timedelta(days=2), time(0), tz)
        return next(
            end for begin, end in _intervals(policy, start) if begin.astimezone(tz).date() > day
        )
    delta = cell.target_delta
    if delta is None:  # unreachable for a validated cell
        raise ValueError(f"cell target {cell.target!r} is not a duration")
    return _add_business(policy, start, delta) if business else start + delta


def evaluate(
    policy: SlaPolicy, plan: Plan, severity: Severity, registered_at: datetime
) -> Commitment:
    """The commitment for a case of `plan` and `severity` registered at `registered_at`.

    Pure and deterministic (rules in the module docstring): the workflow computes it when a
    case opens or is reclassified and replay recomputes the same instants, and the API's
    `/sla` preview gives clients exactly what a case would get.

    Raises:
        ValueError: `registered_at` is naive, or the calendar has no business hours ahead.
    """
    tz = _zone(policy.timezone)
    registered = _utc(registered_at)
    cell = policy.cell(plan, severity)
    business = cell.availability is Availability.BUSINESS_HOURS
    attention = next(_intervals(policy, registered))[0] if business else registered
    due = _due(policy, cell, attention, business)
    warning: datetime | None = None
    if due is not None and business:
        share = _fraction(business_between(policy, attention, due), cell.warning_threshold)
        warning = _add_business(policy, attention, share)
    elif due is not None:
        warning = registered + _fraction(due - registered, cell.warning_threshold)
    return Commitment(
        policy_version=policy.version,
        availability=cell.availability,
        target=cell.target,
        committed=due is not None,
        response_due=None if due is None else _local(due, tz),
        warning_at=None if warning is None else _local(warning, tz),
        attention_from=_local(attention, tz),
    )


# ------------------------------------------------------------------------------ loading


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise PolicyError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"not valid TOML: {exc}", path=path) from exc


def _cells(raw: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """The cell tables, each with the file's default warning threshold filled in."""
    default = raw.get("warning_threshold", DEFAULT_WARNING_THRESHOLD)
    if isinstance(default, bool) or not isinstance(default, int | float) or not 0 < default < 1:
        raise PolicyError(
            f"{default!r} is not a number strictly between 0 and 1",
            path=path,
            field="warning_threshold",
        )
    table = raw.get("cells")
    if not isinstance(table, dict):
        raise PolicyError("missing [cells.<plan>.<severity>] tables", path=path, field="cells")
    known = f"plans are {', '.join(Plan)}; severities {', '.join(Severity)}"
    for plan_key, row in table.items():
        if plan_key not in set(Plan) or not isinstance(row, dict):
            raise PolicyError(f"not a [cells.<plan>] table; {known}", path=path, cell=plan_key)
        for sev_key in row:
            if sev_key not in set(Severity):
                raise PolicyError(
                    f"unknown severity; {known}", path=path, cell=f"{plan_key}/{sev_key}"
                )
    cells: dict[str, dict[str, Any]] = {}
    for plan in Plan:
        row = table.get(plan.value)
        for sev in Severity:
            cell = row.get(sev.value) if isinstance(row, dict) else None
            if not isinstance(cell, dict):
                raise PolicyError(
                    f"missing table [cells.{plan}.{sev}]", path=path, cell=f"{plan}/{sev}"
                )
            cells.setdefault(plan.value, {})[sev.value] = {"warning_threshold": default, **cell}
    return cells


def _explain(exc: ValidationError, policy_path: Path, holidays_path: Path) -> PolicyError:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] not in ("value_error", "missing"):
        message = f"{error['input']!r}: {message}"
    if loc[0] == "cells" and len(loc) >= 3:
        return PolicyError(
            message, path=policy_path, cell=f"{loc[1]}/{loc[2]}", field=".".join(loc[3:]) or None
        )
    if loc[0] == "holidays":
        which = f"[[holiday]] #{int(loc[1]) + 1}: " if len(loc) > 1 else ""
        return PolicyError(which + message, path=holidays_path, field=".".join(loc[2:]) or None)
    if loc[0] == "calendar":
        return PolicyError(message, path=holidays_path, field="calendar")
    return PolicyError(message, path=policy_path, field=".".join(loc) or None)


def load_policy(policy_path: Path | None = None, holidays_path: Path | None = None) -> SlaPolicy:
    """Read and check the policy and holidays files; raise PolicyError on any problem."""
    policy_path = policy_path or DEFAULT_POLICY_PATH
    holidays_path = holidays_path or DEFAULT_HOLIDAYS_PATH
    raw = _read_toml(policy_path)
    calendar = _read_toml(holidays_path)
    unknown = ", ".join(sorted(set(calendar) - _CALENDAR_KEYS))
    if unknown:
        why = "unexpected key; only `calendar` and [[holiday]] tables belong here"
        raise PolicyError(why, path=holidays_path, field=unknown)
    if "holiday" not in calendar:
        why = "no [[holiday]] tables; write `holiday = []` for a calendar without holidays"
        raise PolicyError(why, path=holidays_path, field="holiday")
    misplaced = ", ".join(sorted(set(raw) & {*_CALENDAR_KEYS, "holidays"}))
    if misplaced:
        raise PolicyError("belongs in the holidays file", path=policy_path, field=misplaced)
    data = {key: value for key, value in raw.items() if key != "warning_threshold"}
    data |= {
        "cells": _cells(raw, policy_path),
        "holidays": calendar["holiday"],
        "calendar": calendar.get("calendar"),
    }
    try:
        return SlaPolicy.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, policy_path, holidays_path) from exc
