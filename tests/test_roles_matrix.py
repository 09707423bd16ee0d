"""Who may call what: every endpoint of the app, with no key, a wrong key, a revoked key
and a key of each role, over HTTP against the real stack; then what a contact center
reads of the cases.

The matrix is one table. Every route of the app must have a row, so a new route without
one fails here. Actions target a case that does not exist, so a caller the role lets
through gets 404 from Temporal and nothing changes anywhere; reads target a case the
contact center opened. "public" rows answer the same whatever key is sent: the customer's
pages take a one-time token instead (made-up ones here, hence 404), and the health
checks and the API's documentation need nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

import fastapi.routing
import pytest

from api import keys
from api.principals import ApiPrincipal, Role
from tests.builders import customer_body, intake_body
from tests.customer import decide, requested
from tests.stack import KEY_OF_ROLE, ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALLERS = ("none", "wrong", "revoked", "contact_center", "agent", "supervisor", "ops", "metrics")
# The table's column headings, in CALLERS' order.
HEADINGS = ("none", "wrong", "revoked", "cc", "agent", "sup", "ops", "met")

MATRIX = """
verb path                                     none wrong revoked   cc agent  sup  ops  met
GET  /healthz                                  200   200     200  200   200  200  200  200  public
GET  /readyz                                   200   200     200  200   200  200  200  200  public
GET  /openapi.json                             200   200     200  200   200  200  200  200  public
GET  /docs                                     200   200     200  200   200  200  200  200  public
GET  /redoc                                    200   200     200  200   200  200  200  200  public
GET  /docs-assets/{path}                       200   200     200  200   200  200  200  200  public
GET  /autorizacion/{token}                     404   404     404  404   404  404  404  404  public
POST /autorizacion/{token}                     404   404     404  404   404  404  404  404  public
GET  /sesion-remota/{code}                     404   404     404  404   404  404  404  404  public
POST /sesion-remota/{code}                     404   404     404  404   404  404  404  404  public
POST /cases                                    401   401     401  201   403  201  403  403
GET  /cases                                    401   401     401  200   200  200  200  403
GET  /cases/{case_id}                          401   401     401  200   200  200  200  403
GET  /cases/{case_id}/events                   401   401     401  403   200  200  200  403
GET  /cases/{case_id}/notifications            401   401     401  403   200  200  200  403
GET  /cases/{case_id}/history                  401   401     401  403   200  200  200  403
POST /cases/{case_id}/contacts                 401   401     401  403   404  404  403  403
POST /cases/{case_id}/remote-access/request    401   401     401  403   404  404  403  403
POST /cases/{case_id}/remote-session/start     401   401     401  403   404  404  403  403
POST /cases/{case_id}/remote-session/end       401   401     401  403   404  404  403  403
POST /cases/{case_id}/resolve                  401   401     401  403   404  404  403  403
POST /cases/{case_id}/close                    401   401     401  403   404  404  403  403
POST /cases/{case_id}/reopen                   401   401     401  403   404  404  403  403
POST /cases/{case_id}/cancel                   401   401     401  403   404  404  403  403
POST /cases/{case_id}/severity                 401   401     401  403   404  404  403  403
POST /cases/{case_id}/plan                     401   401     401  403   403  404  403  403
GET  /sla/matrix                               401   401     401  200   200  200  200  403
GET  /sla/evaluate                             401   401     401  200   200  200  200  403
GET  /reports/sla                              401   401     401  403   403  200  200  403
GET  /metrics                                  401   401     401  403   403  403  200  200
"""


def _table() -> dict[tuple[str, str], dict[str, int]]:
    header, *rows = MATRIX.strip().splitlines()
    assert tuple(header.split()[2:]) == HEADINGS
    table: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        method, path, *cells = row.split()
        statuses = [int(c) for c in cells[: len(CALLERS)]]
        assert len(statuses) == len(CALLERS), row
        if cells[len(CALLERS) :] == ["public"]:
            assert len(set(statuses)) == 1, f"a public row answers the same to all: {row}"
        table[(method, path)] = dict(zip(CALLERS, statuses, strict=True))
    return table


INTAKE = intake_body(
    customer=customer_body(id="C-matrix", name="Matriz", email="matriz@example.com"),
    plan="estandar",
    severity="C",
    severity_reason="consulta",
    summary="Prueba de permisos",
)
# Valid bodies, so that what decides each answer is the caller, not the body.
BODIES: dict[str, dict[str, Any]] = {
    "/cases": INTAKE,
    "/cases/{case_id}/contacts": {"channel": "phone", "outcome": "reached"},
    "/cases/{case_id}/remote-access/request": {"reason": "revisar", "access": "view"},
    "/cases/{case_id}/remote-session/end": {"outcome": "completed", "summary": "hecho"},
    "/cases/{case_id}/resolve": {"methods": ["phone"], "summary": "hecho"},
    "/cases/{case_id}/reopen": {"reason": "vuelve a fallar"},
    "/cases/{case_id}/cancel": {"reason": "duplicado"},
    "/cases/{case_id}/severity": {"severity": "B", "reason": "menos usuarios"},
    "/cases/{case_id}/plan": {"plan": "basico", "reason": "contrato"},
}
QUERIES: dict[str, dict[str, str]] = {
    "/sla/evaluate": {
        "plan": "basico",
        "severity": "B",
        "registered_at": "2026-03-23T10:00:00+01:00",
    },
    "/reports/sla": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
}
# A made-up customer token and session code, well formed; a file a mount serves.
FILLERS = {"token": "x" * 43, "code": "x" * 43, "path": "swagger-ui.css"}


def app_endpoints(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route; a mounted app (static files) as `GET <mount>/{path}`,
    so that what it serves has a row too."""
    # FastAPI >= 0.120 nests included routers; iter_route_contexts flattens them.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(flatten(app.routes)) if flatten is not None else app.routes
    found: set[tuple[str, str]] = set()
    for route in routes:
        methods = getattr(route, "methods", None)
        if methods is None:
            found.add(("GET", route.path + "/{path}"))
        found |= {(m, route.path) for m in methods or () if m != "HEAD"}
    return found


async def _revoked_key(stack: ApiStack) -> str:
    name = f"revocada-{uuid.uuid4().hex[:8]}"
    principal = ApiPrincipal(name=name, display_name="Clave Revocada", roles=[Role.SUPERVISOR])
    async with stack.services.store.pool.connection() as conn:
        key = await keys.create(conn, principal)
        assert await keys.revoke(conn, name) == 1
    return key


async def _metrics_key(stack: ApiStack) -> str:
    """A metrics key as ops make one: with the key command, into the stack's database."""
    name = f"prometheus-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEYS", "API_KEYS_FILE")}
    made = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.keys", "create", "--name", name,
        "--display-name", "Prometheus", "--role", "metrics",
        env=env | {"DATABASE_URL": stack.settings.database_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(made.communicate(), timeout=60)
    assert made.returncode == 0, err.decode()
    assert "metrics" in err.decode()  # the roles it was made with, on stderr
    return out.decode().strip()


async def test_every_endpoint_has_a_row() -> None:
    from api.main import create_app

    endpoints = app_endpoints(create_app())
    table = set(_table())
    assert endpoints - table == set(), "endpoints without a row in MATRIX"
    assert table - endpoints == set(), "rows in MATRIX for endpoints that do not exist"


async def test_role_by_endpoint_matrix(stack: ApiStack) -> None:
    own = (await stack.open_case())["case_id"]  # opened by the contact center
    await stack.projected(own)
    headers: dict[str, dict[str, str]] = {
        "none": {},
        "wrong": stack.auth(keys.new_key()),
        "revoked": stack.auth(await _revoked_key(stack)),
    }
    headers |= {role.value: stack.auth(key) for role, key in KEY_OF_ROLE.items()}
    headers["metrics"] = stack.auth(await _metrics_key(stack))
    wrong: list[str] = []
    for (method, path), expected in _table().items():
        case_id = own if method == "GET" else "CASE-999999999"
        url = path.format(case_id=case_id, **FILLERS)
        for caller, status in expected.items():
            if path.startswith(("/autorizacion/", "/sesion-remota/")) and method == "POST":
                r = await stack.http.post(
                    url,
                    content="decision=autorizar" if "autorizacion" in path else "decision=revocar",
                    headers=headers[caller] | {"content-type": "application/x-www-form-urlencoded"},
                )
            else:
                r = await stack.http.request(
                    method,
                    url,
                    json=BODIES.get(path, {}) if method == "POST" else None,
                    params=QUERIES.get(path),
                    headers=headers[caller],
                )
            if r.status_code != status:
                wrong.append(f"{method} {path} as {caller}: {r.status_code}, not {status}")
    assert wrong == []


async def test_a_contact_center_lists_and_reads_only_the_cases_it_opened(
    stack: ApiStack,
) -> None:
    customer = f"C-own-{uuid.uuid4().hex[:6]}"
    body = INTAKE | {"customer": INTAKE["customer"] | {"id": customer}}
    mine = []
    for _ in range(3):
        r = await stack.http.post("/cases", json=body, headers=stack.auth("key-centralita"))
        assert r.status_code == 201, r.text
        mine.append(r.json()["case_id"])
    r = await stack.http.post("/cases", json=body, headers=stack.auth("key-sofia"))
    assert r.status_code == 201
    theirs = r.json()["case_id"]
    for case_id in [*mine, theirs]:
        await stack.projected(case_id)

    def listed(key: str, **params: Any) -> Any:
        return stack.http.get(
            "/cases", params={"customer_id": customer, **params}, headers=stack.auth(key)
        )

    r = await listed("key-ops")
    assert sorted(c["case_id"] for c in r.json()) == sorted([*mine, theirs])
    r = await listed("key-centralita")
    assert sorted(c["case_id"] for c in r.json()) == sorted(mine)
    # Pages keep to the contact center's cases and go on from the last one it saw.
    first = (await listed("key-centralita", limit=2)).json()
    rest = (await listed("key-centralita", limit=2, after=first[-1]["case_id"])).json()
    assert [c["case_id"] for c in first + rest] == [c["case_id"] for c in r.json()]

    r = await stack.http.get(f"/cases/{theirs}", headers=stack.auth("key-centralita"))
    assert r.status_code == 404  # as if unknown: not even its existence
    r = await stack.http.get(f"/cases/{mine[0]}", headers=stack.auth("key-centralita"))
    assert r.status_code == 200
    assert r.json()["opened_by"] == "centralita"


async def test_a_contact_center_never_sees_the_customers_ip_or_browser(
    stack: ApiStack,
) -> None:
    case, path = await requested(stack)  # opened by the contact center
    assert (await decide(stack, path, "autorizar")).status_code == 200
    case_id = case["case_id"]
    r = await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ops"))
    consent = r.json()["authorizations"][0]["consents"][0]
    assert (consent["ip"], consent["user_agent"]) == ("127.0.0.5", "Firefox/140")

    r = await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-centralita"))
    assert r.status_code == 200
    authorization = r.json()["authorizations"][0]
    assert authorization["status"] == "granted"
    seen = authorization["consents"][0]
    assert seen["decision"] == "authorized"
    assert (seen["ip"], seen["user_agent"]) == (None, None)
    assert "127.0.0.5" not in r.text
    assert "Firefox/140" not in r.text
    for records in ("events", "notifications"):
        r = await stack.http.get(
            f"/cases/{case_id}/{records}", headers=stack.auth("key-centralita")
        )
        assert r.status_code == 403


async def test_allowed_actions_are_only_what_the_callers_role_may_send(stack: ApiStack) -> None:
    case = await stack.open_case()
    seen = {}
    for key in ("key-ana", "key-sofia", "key-ops", "key-centralita"):
        r = await stack.http.get(f"/cases/{case['case_id']}", headers=stack.auth(key))
        seen[key] = set(r.json()["allowed_actions"])
    assert "contact" in seen["key-ana"]
    assert "change_plan" not in seen["key-ana"]
    assert "change_plan" in seen["key-sofia"]
    assert seen["key-ops"] == seen["key-centralita"] == set()
    # Nobody but the customer's own link decides on remote access.
    assert all("decide_remote_access" not in actions for actions in seen.values())
