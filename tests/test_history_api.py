"""GET /cases/{id}/history over the real stack, and the docs pages, which must work on a
machine without internet."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.stack import ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")

UTC_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
ANY_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def instants(value: Any) -> Iterator[str]:
    """Every text in a JSON value that looks like an instant."""
    if isinstance(value, dict):
        for v in value.values():
            yield from instants(v)
    elif isinstance(value, list):
        for v in value:
            yield from instants(v)
    elif isinstance(value, str) and ANY_INSTANT.match(value):
        yield value


async def worked_case(stack: ApiStack) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A premium A case called twice, reclassified by an agent and a supervisor, resolved
    and closed; with its events once PostgreSQL has them all."""
    customer = {"id": f"C-HIST-{uuid.uuid4().hex[:8]}", "name": "Iker", "email": "i@example.com"}
    case = await stack.open_case(customer=customer)
    case_id = case["case_id"]
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("contacts", {"channel": "phone", "outcome": "no_answer"}, "key-ana"),
        ("contacts", {"channel": "phone", "outcome": "reached"}, "key-ana"),
        ("severity", {"severity": "B", "reason": "solo afecta a un usuario"}, "key-ana"),
        ("plan", {"plan": "basico", "reason": "contrato revisado"}, "key-sofia"),
        ("resolve", {"methods": ["phone"], "summary": "Correo reconfigurado"}, "key-ana"),
        ("close", {}, "key-ana"),
    ]
    for path, body, key in steps:
        r = await stack.act(case_id, path, body, key=key)
        assert r.status_code == 200, r.text
    return case, await stack.projected(case_id)


async def test_history_says_who_did_what_when_and_what_changed(stack: ApiStack) -> None:
    case, events = await worked_case(stack)
    case_id = case["case_id"]
    r = await stack.http.get(f"/cases/{case_id}/history", headers=stack.auth("key-ops"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["case_id"] == case_id
    assert body["temporal_ui_url"] == case["temporal_ui_url"]
    entries = body["entries"]
    # The log in order, entry for event.
    assert [(e["seq"], e["type"], e["actor"]) for e in entries] == [
        (e["seq"], e["type"], e["actor"]) for e in events
    ]
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    whens = [datetime.fromisoformat(e["at"]) for e in entries]
    assert whens == sorted(whens)
    for entry in entries:
        assert entry["label"]
        assert entry["summary"].startswith(entry["label"]) or entry["change"] is not None
        assert all(UTC_TEXT.fullmatch(t) for t in [entry["at"], *instants(entry)]), entry

    first = entries[0]
    assert (first["type"], first["actor"], first["label"]) == (
        "case_registered",
        "centralita",
        "Caso registrado",
    )
    assert first["summary"] == "Caso registrado: plan premium, gravedad A"
    contacts = [e["summary"] for e in entries if e["type"] == "contact_logged"]
    assert contacts == [
        "Contacto con el cliente: llamada sin respuesta",
        "Contacto con el cliente: llamada: cliente localizado",
    ]
    response = next(e for e in entries if e["type"] == "first_response")
    assert (response["actor"], response["summary"]) == ("ana", "Respuesta inicial: cumplido")

    stages = [
        (e["actor"], e["change"]["before"]["stage"], e["change"]["after"]["stage"], e["summary"])
        for e in entries
        if e["type"] == "stage_changed"
    ]
    assert stages == [
        ("ana", "registro", "contacto", "Etapa: registro → contacto"),
        ("ana", "contacto", "resolucion_telefonica", "Etapa: contacto → resolución telefónica"),
        ("ana", "resolucion_telefonica", "resuelto", "Etapa: resolución telefónica → resuelto"),
        ("ana", "resuelto", "cerrado", "Etapa: resuelto → cerrado"),
    ]

    registered = datetime.fromisoformat(case["registered_at"])
    severity = next(e for e in entries if e["type"] == "severity_changed")
    assert severity["actor"] == "ana"
    assert severity["label"] == "Cambio de gravedad"
    assert severity["summary"] == "Gravedad: A → B. solo afecta a un usuario"
    before, after = severity["change"]["before"], severity["change"]["after"]
    assert (before["plan"], before["severity"], after["plan"], after["severity"]) == (
        "premium",
        "A",
        "premium",
        "B",
    )
    assert before["stage"] is None
    assert (before["commitment"]["target"], after["commitment"]["target"]) == ("1h", "2h")
    assert datetime.fromisoformat(before["commitment"]["response_due"]) == registered + timedelta(
        hours=1
    )
    assert datetime.fromisoformat(after["commitment"]["response_due"]) == registered + timedelta(
        hours=2
    )
    assert after["commitment"]["policy_version"] == case["sla"]["policy_version"]

    plan = next(e for e in entries if e["type"] == "plan_changed")
    assert (plan["actor"], plan["summary"]) == (
        "sofia",
        "Plan: premium → basico. contrato revisado",
    )
    before, after = plan["change"]["before"], plan["change"]["after"]
    assert (before["plan"], after["plan"], after["severity"]) == ("premium", "basico", "B")
    assert before["commitment"] == severity["change"]["after"]["commitment"]
    assert after["commitment"]["target"] == "next_day"

    assert [e["type"] for e in entries if e["change"] is not None] == [
        e["type"]
        for e in entries
        if e["type"] in ("stage_changed", "severity_changed", "plan_changed")
    ]
    assert entries[-2]["summary"] == "Caso cerrado"


async def test_history_for_agents_supervisors_and_ops(stack: ApiStack) -> None:
    case_id = (await stack.open_case())["case_id"]
    await stack.projected(case_id)
    path = f"/cases/{case_id}/history"
    for key, status in (
        ("key-ana", 200),
        ("key-sofia", 200),
        ("key-ops", 200),
        ("key-centralita", 403),
    ):
        assert (await stack.http.get(path, headers=stack.auth(key))).status_code == status, key
    assert (await stack.http.get(path)).status_code == 401


async def test_history_of_an_unknown_case_is_404(stack: ApiStack) -> None:
    r = await stack.http.get("/cases/CASE-999999998/history", headers=stack.auth("key-ops"))
    assert r.status_code == 404
    assert r.json()["case_id"] == "CASE-999999998"
    r = await stack.http.get("/cases/nope/history", headers=stack.auth("key-ops"))
    assert r.status_code == 422


ASSET = re.compile(r"""(?:src|href|spec-url)="([^"]+)"|url: '([^']+)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_load_everything_from_the_api_itself(stack: ApiStack, page: str) -> None:
    r = await stack.http.get(page)
    assert r.status_code == 200
    assert "://" not in r.text  # no CDN, no web font, no online validator
    urls = [a or b for a, b in ASSET.findall(r.text)]
    assert "/openapi.json" in urls
    assert any(u.endswith(".js") for u in urls)
    for url in urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = await stack.http.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    if page == "/docs":
        js = next(u for u in urls if u.endswith(".js"))
        assert "SwaggerUIBundle" in (await stack.http.get(js)).text


async def test_openapi_lists_the_new_routes(stack: ApiStack) -> None:
    paths = (await stack.http.get("/openapi.json")).json()["paths"]
    assert "text/csv" in paths["/reports/sla"]["get"]["responses"]["200"]["content"]
    assert "/cases/{case_id}/history" in paths
