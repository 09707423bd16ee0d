"""The HTTP API against a real Temporal dev server, worker, PostgreSQL and SMTP server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.builders import customer_body, intake_body
from tests.stack import ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_open_case_returns_it_and_get_agrees(stack: ApiStack) -> None:
    case = await stack.open_case()
    assert case["case_id"].startswith("CASE-")
    assert case["stage"] == "registro"
    assert case["sla"]["state"] == "pending"
    assert case["sla"]["target"] == "1h"
    assert case["temporal_ui_url"].endswith(f"/workflows/{case['case_id']}")
    r = await stack.http.get(f"/cases/{case['case_id']}", headers=stack.auth("key-ops"))
    assert r.status_code == 200
    got = r.json()
    assert got["sla"]["response_due"] == case["sla"]["response_due"]
    assert got["customer"] == case["customer"]


async def test_acknowledgement_email_states_the_commitment(stack: ApiStack) -> None:
    case = await stack.open_case(plan="free", severity="C", severity_reason="duda")
    mail = await stack.inbox.wait_for(case["customer"]["email"], case["case_id"])
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "sin compromiso de tiempo de respuesta" in body.get_content()


async def test_impact_assessment_assigns_severity_and_records_the_rule(stack: ApiStack) -> None:
    case = await stack.open_case(
        severity=None,
        severity_reason=None,
        impact={
            "services_unavailable": True,
            "users_affected": "several",
            "business_impact": "moderate",
            "workaround_available": False,
        },
    )
    assert case["severity"] == "A"
    assert case["severity_assignment"]["rule"]
    assert case["severity_assignment"]["impact"]["users_affected"] == "several"


async def test_phone_case_from_intake_to_closure(stack: ApiStack) -> None:
    case_id = (await stack.open_case())["case_id"]
    r = await stack.act(case_id, "contacts", {"channel": "phone", "outcome": "no_answer"})
    assert r.json()["stage"] == "contacto"
    assert r.json()["sla"]["state"] == "pending"
    r = await stack.act(
        case_id,
        "contacts",
        {"channel": "phone", "outcome": "reached", "note": "reinicio del servidor de correo"},
    )
    assert r.json()["stage"] == "resolucion_telefonica"
    assert r.json()["sla"]["state"] == "met"
    r = await stack.act(case_id, "resolve", {"methods": ["phone"], "summary": "Resuelto"})
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "resuelto"
    r = await stack.act(case_id, "close")
    assert r.json()["stage"] == "cerrado"
    events = await stack.projected(case_id)
    types = [e["type"] for e in events]
    assert types[0] == "case_registered"
    assert "first_response" in types
    assert types[-2:] == ["case_closed", "stage_changed"]


async def test_unknown_case_is_404(stack: ApiStack) -> None:
    r = await stack.http.get("/cases/CASE-999999999", headers=stack.auth("key-ops"))
    assert r.status_code == 404
    r = await stack.act("CASE-999999999", "contacts", {"channel": "phone", "outcome": "reached"})
    assert r.status_code == 404


async def test_action_the_stage_forbids_is_409_with_stage_and_allowed(stack: ApiStack) -> None:
    case_id = (await stack.open_case())["case_id"]
    r = await stack.act(case_id, "close")
    assert r.status_code == 409
    body = r.json()
    assert body["stage"] == "registro"
    assert "contact" in body["allowed_actions"]
    assert "close" not in body["allowed_actions"]
    r = await stack.act(case_id, "resolve", {"methods": ["phone"], "summary": "x"})
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": "gold"}, "body.plan"),
        ({"customer": {"id": "1", "name": "x", "email": "not-an-email"}}, "body.customer.email"),
        ({"summary": ""}, "body.summary"),
    ],
)
async def test_bad_intake_is_422_naming_the_field(
    stack: ApiStack, body: dict[str, Any], field: str
) -> None:
    r = await stack.http.post(
        "/cases", json=intake_body(**body), headers=stack.auth("key-centralita")
    )
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_contact_outcome_must_fit_channel(stack: ApiStack) -> None:
    case_id = (await stack.open_case())["case_id"]
    r = await stack.act(case_id, "contacts", {"channel": "email", "outcome": "no_answer"})
    assert r.status_code == 422
    assert "outcome" in r.text


async def test_authentication_and_roles(stack: ApiStack) -> None:
    r = await stack.http.post("/cases", json={})
    assert r.status_code == 401
    r = await stack.http.post("/cases", json={}, headers=stack.auth("wrong"))
    assert r.status_code == 401
    case_id = (await stack.open_case())["case_id"]
    r = await stack.act(
        case_id, "contacts", {"channel": "phone", "outcome": "reached"}, key="key-ops"
    )
    assert r.status_code == 403
    r = await stack.act(case_id, "plan", {"plan": "basico", "reason": "x"}, key="key-ana")
    assert r.status_code == 403
    r = await stack.act(
        case_id, "contacts", {"channel": "phone", "outcome": "reached", "agent": "someone-else"}
    )
    assert r.status_code == 403
    r = await stack.http.get(f"/cases/{case_id}")
    assert r.status_code == 401


async def test_retried_action_with_request_id_applies_once(stack: ApiStack) -> None:
    case_id = (await stack.open_case())["case_id"]
    body = {"channel": "phone", "outcome": "no_answer", "request_id": "call-1"}
    first = await stack.act(case_id, "contacts", body)
    second = await stack.act(case_id, "contacts", body)
    assert first.status_code == second.status_code == 200
    assert len(second.json()["contacts"]) == 1


async def test_retried_intake_with_idempotency_key_opens_one_case(stack: ApiStack) -> None:
    # A fixed body: the key is fixed too, and a database kept between runs remembers it.
    iker = customer_body(id="C-9", name="Iker", email="iker@example.com")
    body = intake_body(customer=iker, plan="estandar", severity="B", summary="VPN")
    headers = stack.auth("key-centralita") | {"Idempotency-Key": "intake-abc-123"}
    first = await stack.http.post("/cases", json=body, headers=headers)
    second = await stack.http.post("/cases", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["case_id"] == second.json()["case_id"]
    other = await stack.http.post("/cases", json=body | {"summary": "otra"}, headers=headers)
    assert other.status_code == 409


async def test_sla_matrix_and_evaluate(stack: ApiStack) -> None:
    r = await stack.http.get("/sla/matrix", headers=stack.auth("key-ops"))
    assert r.status_code == 200
    assert r.json()["cells"]["basico"]["B"]["target"] == "next_day"
    r = await stack.http.get(
        "/sla/evaluate",
        headers=stack.auth("key-ops"),
        params={"plan": "basico", "severity": "B", "registered_at": "2026-03-23T10:00:00+01:00"},
    )
    assert r.status_code == 200
    assert r.json()["response_due"] == "2026-03-24T23:00:00Z"  # Madrid midnight, in UTC
    r = await stack.http.get(
        "/sla/evaluate",
        headers=stack.auth("key-ops"),
        params={"plan": "free", "severity": "B", "registered_at": "2026-11-27T19:00:00+01:00"},
    )
    assert r.json()["committed"] is False
    assert r.json()["response_due"] is None
    assert r.json()["attention_from"] == "2026-11-30T08:00:00Z"  # Monday 09:00 in Madrid


async def test_health_and_readiness(stack: ApiStack) -> None:
    assert (await stack.http.get("/healthz")).status_code == 200
    r = await stack.http.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    # Whether the worker polls yet depends on timing here; test_observability waits for it.
    assert body.pop("worker") in ("polling", "absent")
    assert body.pop("worker_pollers") in (0, 1)
    assert body == {
        "status": "ready",
        "postgresql": "ok",
        "temporal": "ok",
        "projection": "current",
        "cases_behind": 0,
    }


async def test_case_list_filters_and_puts_the_most_urgent_first(stack: ApiStack) -> None:
    customer = f"C-list-{uuid.uuid4().hex[:6]}"
    base = {"customer": {"id": customer, "name": "Lista", "email": "lista@example.com"}}
    slow = await stack.open_case(**base, plan="estandar", severity="C", severity_reason="r")
    urgent = await stack.open_case(**base, plan="premium", severity="A", severity_reason="r")
    none = await stack.open_case(**base, plan="free", severity="C", severity_reason="r")
    for case in (slow, urgent, none):
        await stack.projected(case["case_id"])
    ops = stack.auth("key-ops")
    r = await stack.http.get("/cases", params={"customer_id": customer}, headers=ops)
    assert r.status_code == 200
    assert [c["case_id"] for c in r.json()] == [urgent["case_id"], slow["case_id"], none["case_id"]]
    r = await stack.http.get(
        "/cases", headers=ops, params={"customer_id": customer, "sla_state": "not_committed"}
    )
    assert [c["case_id"] for c in r.json()] == [none["case_id"]]
    r = await stack.http.get(
        "/cases",
        headers=ops,
        params={"customer_id": customer, "limit": 1, "after": urgent["case_id"]},
    )
    assert [c["case_id"] for c in r.json()] == [slow["case_id"]]
    r = await stack.http.get("/cases", headers=ops, params={"stage": "nope"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "query.stage"
