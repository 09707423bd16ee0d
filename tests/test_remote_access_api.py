"""Remote access over HTTP: only the customer's one-time link can authorize it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.store import hash_secret
from tests.customer import SESSION_LINK, decide, outcome, requested, stage, text_of
from tests.stack import ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_customer_authorizes_and_consent_is_recorded(stack: ApiStack) -> None:
    case, path = await requested(stack)
    page = await stack.http.get(path)
    assert page.status_code == 200
    assert "Autorizar" in page.text
    assert "Rechazar" in page.text
    assert case["case_id"] in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    r = await decide(stack, path, "autorizar")
    assert r.status_code == 200
    assert r.history[0].status_code == 303
    assert r.history[0].headers["location"] == f"{path}?respuesta=autorizar&resultado=hecho"
    assert "<h1>Acceso remoto autorizado</h1>" in r.text
    assert await stage(stack, case["case_id"]) == "acceso_remoto"
    events = await stack.projected(case["case_id"])
    consent = next(e for e in events if e["type"] == "remote_access_authorized")
    assert consent["data"]["consent"]["ip"] == "127.0.0.5"
    assert consent["data"]["consent"]["user_agent"] == "Firefox/140"
    assert "autorizo" in consent["data"]["consent"]["text_shown"]
    assert consent["actor"] == f"cliente:{case['customer']['id']}"


async def test_the_token_is_stored_only_as_a_hash(stack: ApiStack) -> None:
    case, path = await requested(stack)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    async with stack.services.store.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT token_hash FROM remote_authorizations WHERE case_id = %s", (case["case_id"],)
        )
        row = await cur.fetchone()
        assert row is not None
        assert bytes(row["token_hash"]) == hash_secret(token)
        for table in ("cases", "case_events", "remote_authorizations"):
            cur = await conn.execute(
                f"SELECT count(*) AS n FROM {table} t WHERE t::text LIKE %s",  # noqa: S608
                (f"%{token}%",),
            )
            found = await cur.fetchone()
            assert found is not None
            assert found["n"] == 0, table


async def test_a_wrong_token_is_refused(stack: ApiStack) -> None:
    case, path = await requested(stack)
    wrong = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    assert (await stack.http.get(wrong)).status_code == 404
    assert (await decide(stack, wrong, "autorizar")).status_code == 404
    assert await stage(stack, case["case_id"]) == "autorizacion_remota"


async def test_a_used_token_cannot_decide_again(stack: ApiStack) -> None:
    case, path = await requested(stack)
    assert (await decide(stack, path, "rechazar")).status_code == 200
    assert await stage(stack, case["case_id"]) == "contacto"
    r = await decide(stack, path, "autorizar")
    assert (r.history[0].status_code, outcome(r)) == (303, "no")
    assert "No se ha podido autorizar" in r.text
    assert "<h1>Acceso remoto rechazado</h1>" in r.text
    assert await stage(stack, case["case_id"]) == "contacto"
    await stack.projected(case["case_id"])
    notes = (
        await stack.http.get(
            f"/cases/{case['case_id']}/notifications", headers=stack.auth("key-ops")
        )
    ).json()
    assert "remote_access_rejected" in [n["kind"] for n in notes]


async def test_an_expired_token_is_refused(stack: ApiStack) -> None:
    case, path = await requested(stack)
    stack.move_clock(timedelta(hours=24, minutes=1))
    try:
        page = await stack.http.get(path)
        assert "Autorizar" not in page.text
        assert "caducó" in page.text
        assert outcome(await decide(stack, path, "autorizar")) == "no"
    finally:
        stack.move_clock(-timedelta(hours=24, minutes=1))
    assert await stage(stack, case["case_id"]) == "autorizacion_remota"


async def test_one_case_token_never_touches_another_case(stack: ApiStack) -> None:
    first, first_path = await requested(stack)
    second, _ = await requested(stack)
    assert (await decide(stack, first_path, "autorizar")).status_code == 200
    assert await stage(stack, first["case_id"]) == "acceso_remoto"
    assert await stage(stack, second["case_id"]) == "autorizacion_remota"


async def test_an_agent_key_cannot_authorize(stack: ApiStack) -> None:
    case, _ = await requested(stack)
    for key in ("key-ana", "key-sofia"):
        r = await decide(stack, f"/autorizacion/{key}", "autorizar", authorization=f"Bearer {key}")
        assert r.status_code == 404
        r = await stack.act(case["case_id"], "remote-access/authorize", {}, key=key)
        assert r.status_code in (404, 405)
    assert await stage(stack, case["case_id"]) == "autorizacion_remota"


async def test_session_needs_authorization_and_customer_can_revoke(stack: ApiStack) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    r = await stack.act(case_id, "remote-session/start")
    assert r.status_code == 409
    assert r.json()["stage"] == "autorizacion_remota"
    await decide(stack, path, "autorizar")
    r = await stack.act(case_id, "remote-session/start")
    assert r.status_code == 200, r.text
    assert r.json()["sessions"][-1]["ended_at"] is None
    match = SESSION_LINK.search(await text_of(stack, case, "Sesión"))
    assert match is not None
    session_page = await stack.http.get(match.group(1))
    assert session_page.status_code == 200
    assert "Revocar" in session_page.text
    r = await decide(stack, path, "revocar")
    assert r.status_code == 200
    state = (await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ops"))).json()
    assert state["stage"] == "contacto"
    assert state["sessions"][-1]["outcome"] == "revoked_by_customer"
    assert state["authorizations"][-1]["status"] == "revoked"
    r = await stack.act(case_id, "remote-session/start")
    assert r.status_code == 409


async def test_remote_resolution_after_a_session(stack: ApiStack) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    await decide(stack, path, "autorizar")
    assert (await stack.act(case_id, "remote-session/start")).status_code == 200
    r = await stack.act(
        case_id,
        "remote-session/end",
        {"outcome": "completed", "summary": "Perfil de Outlook reparado"},
    )
    assert r.status_code == 200
    r = await stack.act(case_id, "resolve", {"methods": ["remote"], "summary": "Reparado"})
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "resuelto"
    assert "Reparado" in await text_of(stack, case, "resuelta")
