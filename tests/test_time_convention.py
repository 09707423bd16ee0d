"""One time convention in API answers: every instant is UTC, written with `Z`.

The case's own times (registration, contacts) are recorded in UTC and the SLA's in the
policy's zone; the API gives them all alike. Walks whole answers: any string shaped
like an instant, wherever it is, must be UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.stack import ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")

# An instant as ISO 8601 writes one, with any offset or none.
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
UTC_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def instants(value: Any, path: str = "") -> dict[str, str]:
    """Every string in `value` shaped like an instant, by its JSON path."""
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found |= instants(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= instants(item, f"{path}[{index}]")
    elif isinstance(value, str) and INSTANT.fullmatch(value):
        found[path] = value
    return found


def not_utc(found: dict[str, str]) -> dict[str, str]:
    return {path: value for path, value in found.items() if not UTC_Z.fullmatch(value)}


async def test_the_walk_finds_instants_in_any_offset() -> None:
    found = instants({"a": [{"b": "2026-11-25T10:00:00+01:00"}], "c": "2026-11-25T09:00:00Z"})
    assert found == {".a[0].b": "2026-11-25T10:00:00+01:00", ".c": "2026-11-25T09:00:00Z"}
    assert not_utc(found) == {".a[0].b": "2026-11-25T10:00:00+01:00"}


async def test_every_time_of_a_case_is_utc(stack: ApiStack) -> None:
    # A business-hours case (its queue time and SLA times come from the policy's zone)
    # with a contact on record.
    case = await stack.open_case(plan="basico", severity="B", severity_reason="lento")
    r = await stack.act(case["case_id"], "contacts", {"channel": "phone", "outcome": "reached"})
    assert r.status_code == 200, r.text
    r = await stack.http.get(f"/cases/{case['case_id']}", headers=stack.auth("key-ana"))
    assert r.status_code == 200
    found = instants(r.json())
    # The walk saw the case's own times and the SLA's, whatever zone recorded them.
    for field in (".registered_at", ".sla.attention_from", ".sla.response_due", ".contacts[0].at"):
        assert field in found, (field, sorted(found))
    assert not_utc(found) == {}
    assert not_utc(instants(case)) == {}  # the intake's answer too
    registered = datetime.fromisoformat(found[".registered_at"])
    assert registered.utcoffset() == UTC.utcoffset(None)


async def test_lists_events_and_the_commitment_are_utc(stack: ApiStack) -> None:
    case = await stack.open_case(plan="basico", severity="B", severity_reason="lento")
    await stack.projected(case["case_id"])
    answers = []
    for path, params in (
        ("/cases", {"customer_id": case["customer"]["id"]}),
        (f"/cases/{case['case_id']}/events", None),
        (f"/cases/{case['case_id']}/notifications", None),
        (
            "/sla/evaluate",
            {"plan": "basico", "severity": "B", "registered_at": "2026-11-27T19:00:00+01:00"},
        ),
    ):
        r = await stack.http.get(path, params=params, headers=stack.auth("key-ops"))
        assert r.status_code == 200, (path, r.text)
        answers.append(r.json())
    listed, events, _, evaluated = answers
    for answer in (listed, events, evaluated):
        assert instants(answer), answer
    # The list's and the log's own columns; an event's `data` is as the workflow wrote it.
    columns = [{k: v for k, v in e.items() if k != "data"} for e in events]
    assert not_utc(instants([listed, columns, answers[2], evaluated])) == {}
    assert evaluated["registered_at"] == "2026-11-27T18:00:00Z"
