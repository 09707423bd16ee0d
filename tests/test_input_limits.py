"""Bad data cannot get in: every text refuses control characters, every string and list
has a maximum, and the largest case a client can build stays far from Temporal's limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import intake_body
from tests.stack import ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")


CUSTOMER = {"id": "C-bad-input", "name": "Ana", "email": "ana@example.com"}


def _intake(**overrides: Any) -> dict[str, Any]:
    return intake_body(**{"customer": CUSTOMER} | overrides)


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("body.summary", _intake(summary="a\x00b")),
        ("body.summary", _intake(summary="x" * 301)),
        ("body.summary", _intake(summary="dos\nlíneas")),
        ("body.summary", _intake(summary="\u202eevil")),
        ("body.description", _intake(description="a\x07b")),
        ("body.description", _intake(description="x" * 8001)),
        (
            "body.customer.name",
            _intake(customer={"id": "C-bad-input", "name": "A\u200bna", "email": "a@b.es"}),
        ),
        (
            "body.customer.email",
            _intake(customer={"id": "C-bad-input", "name": "Ana", "email": "josé@example.com"}),
        ),
        ("body.affected_services", _intake(affected_services=["s"] * 21)),
        ("body.affected_services.0", _intake(affected_services=["a\x1bb"])),
    ],
)
async def test_intake_refuses_bad_text_and_creates_nothing(
    stack: ApiStack, field: str, body: dict[str, Any]
) -> None:
    r = await stack.http.post("/cases", json=body, headers=stack.auth("key-centralita"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    listed = await stack.http.get(
        "/cases", params={"customer_id": body["customer"]["id"]}, headers=stack.auth("key-ops")
    )
    assert listed.json() == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("contacts", {"channel": "phone", "outcome": "no_answer", "note": "a\x00b"}, "body.note"),
        ("contacts", {"channel": "phone", "outcome": "no_answer", "note": "x" * 1001}, "body.note"),
        (
            "contacts",
            {"channel": "phone", "outcome": "no_answer", "request_id": "a b"},
            "body.request_id",
        ),
        ("resolve", {"methods": ["phone"], "summary": "\x00"}, "body.summary"),
        ("cancel", {"reason": "x" * 2001}, "body.reason"),
    ],
)
async def test_actions_refuse_bad_text_and_change_nothing(
    stack: ApiStack, path: str, body: dict[str, Any], field: str
) -> None:
    case = await stack.open_case()
    r = await stack.act(case["case_id"], path, body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    after = await stack.http.get(f"/cases/{case['case_id']}", headers=stack.auth("key-ops"))
    assert after.json()["revision"] == case["revision"]
