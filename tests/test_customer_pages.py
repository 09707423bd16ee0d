"""What the customer's pages say in every state, over HTTP (issue 12): never a stale or
misleading sentence, never JSON, never a re-post on reload."""

from __future__ import annotations

import pytest

from tests.customer import SESSION_LINK, decide, outcome, requested, text_of
from tests.stack import ApiStack

pytestmark = pytest.mark.asyncio(loop_scope="session")


def title(html: str) -> str:
    return html.split("<title>", 1)[1].split(" · ", 1)[0]


async def test_after_authorizing_the_page_says_what_happens_next(stack: ApiStack) -> None:
    _, path = await requested(stack)
    r = await decide(stack, path, "autorizar")
    assert outcome(r) == "hecho"
    assert title(r.text) == "Acceso remoto autorizado"
    assert "Gracias: hemos registrado su autorización." in r.text
    assert "le enviaremos un correo con el enlace de la sesión" in r.text
    assert "No tiene que instalar nada" in r.text
    assert "La autorización vale hasta el" in r.text
    assert 'value="revocar"' in r.text
    # The same answer again: the state, as it is, and no error.
    again = await decide(stack, path, "autorizar")
    assert outcome(again) == "ya"
    assert "Ya había autorizado este acceso" in again.text
    # A reload of the page the redirect led to only reads.
    reloaded = await stack.http.get(str(r.url))
    assert reloaded.status_code == 200
    assert "Gracias: hemos registrado su autorización." in reloaded.text


async def test_a_repeated_rejection_shows_the_state(stack: ApiStack) -> None:
    _, path = await requested(stack)
    await decide(stack, path, "rechazar")
    r = await decide(stack, path, "rechazar")
    assert outcome(r) == "ya"
    assert "Ya había rechazado esta solicitud" in r.text
    assert title(r.text) == "Acceso remoto rechazado"
    assert "ya no admite" not in r.text


async def test_the_hint_never_outranks_the_case(stack: ApiStack) -> None:
    _, path = await requested(stack)
    r = await stack.http.get(f"{path}?respuesta=autorizar&resultado=hecho")
    assert title(r.text) == "¿Autoriza el acceso remoto a su equipo?"
    assert "hemos registrado su autorización" not in r.text


async def test_the_session_page_says_the_authorization_outlives_the_session(
    stack: ApiStack,
) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    await decide(stack, path, "autorizar")
    assert (await stack.act(case_id, "remote-session/start")).status_code == 200
    match = SESSION_LINK.search(await text_of(stack, case, "Sesión de acceso remoto iniciada"))
    assert match is not None
    session = match.group(1)
    live = await stack.http.get(session)
    assert title(live.text) == "Sesión de acceso remoto en curso"
    assert "Revocar acceso" in live.text
    r = await stack.act(
        case_id, "remote-session/end", {"outcome": "completed", "summary": "Outlook reparado"}
    )
    assert r.status_code == 200
    mail = await text_of(stack, case, "Sesión de acceso remoto terminada")
    assert "Su autorización sigue vigente hasta el" in mail
    assert path in mail  # where to revoke it
    ended = await stack.http.get(session)
    assert title(ended.text) == "Sesión terminada: su autorización sigue vigente"
    assert "ya no tiene acceso" not in ended.text
    assert "Su autorización sigue vigente hasta el" in ended.text
    assert "Revocar autorización" in ended.text
    # What the page says holds: the agent may start another session.
    assert "start_remote_session" in r.json()["allowed_actions"]
    revoked = await decide(stack, session, "revocar")
    assert (revoked.history[0].status_code, outcome(revoked)) == (303, "hecho")
    assert title(revoked.text) == "Autorización revocada"
    mail = await text_of(stack, case, "Confirmación: ha revocado el acceso remoto")
    assert "ya no puede acceder a su equipo" in mail
    assert (await stack.act(case_id, "remote-session/start")).status_code == 409
    assert title((await stack.http.get(path)).text) == "Autorización revocada"


async def test_a_used_request_of_a_resolved_case_is_not_called_expired(stack: ApiStack) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    await decide(stack, path, "autorizar")
    await stack.act(case_id, "contacts", {"channel": "phone", "outcome": "reached"})
    r = await stack.act(case_id, "resolve", {"methods": ["phone"], "summary": "Resuelto"})
    assert r.status_code == 200, r.text
    page = await stack.http.get(path)
    assert title(page.text) == "Acceso remoto ya no activo: caso resuelto"
    assert "La autorización que usted dio ya no está activa porque su caso se resolvió" in page.text
    assert "caduc" not in page.text
    assert "<button" not in page.text


async def test_a_request_replaced_by_a_newer_one_says_so(stack: ApiStack) -> None:
    case, first = await requested(stack)
    await decide(stack, first, "autorizar")
    r = await stack.act(
        case["case_id"], "remote-access/request", {"reason": "Otra revisión", "access": "view"}
    )
    assert r.status_code == 200
    page = await stack.http.get(first)
    assert title(page.text) == "Solicitud sustituida por otra más reciente"
    assert "La autorización que usted dio ya no está activa" in page.text
    assert "Use el enlace de ese correo" in page.text
    assert outcome(await decide(stack, first, "revocar")) == "no"


async def test_a_pasted_link_with_a_trailing_dot_still_works(stack: ApiStack) -> None:
    _, path = await requested(stack)
    for tail in (".", ").", ",", "%20"):
        page = await stack.http.get(path + tail)
        assert page.status_code == 200, tail
        assert f'action="{path}"' in page.text
    r = await decide(stack, path + ".", "autorizar")
    assert r.history[0].headers["location"].startswith(f"{path}?")
    assert outcome(r) == "hecho"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/autorizacion/"),
        ("GET", "/autorizacion"),
        ("GET", "/autorizacion/abc/def"),
        ("PUT", "/autorizacion/" + "A" * 43),
        ("DELETE", "/sesion-remota/" + "A" * 43),
        ("GET", "/sesion-remota"),
        ("GET", "/sesion-remota/x?decision=1"),
        ("POST", "/sesion-remota/" + "A" * 43),
    ],
)
async def test_every_customer_address_answers_a_spanish_page(
    stack: ApiStack, method: str, path: str
) -> None:
    r = await stack.http.request(method, path)
    assert r.status_code in (400, 404, 405), r.status_code
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in r.text
    assert stack.settings.support_phone in r.text
    assert r.headers["cache-control"] == "no-store"


async def test_api_clients_keep_json_errors(stack: ApiStack) -> None:
    r = await stack.http.get("/no-such-thing")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}
    r = await stack.http.put("/healthz")
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/json")


async def test_each_decision_is_confirmed_by_mail(stack: ApiStack) -> None:
    case, path = await requested(stack)
    await decide(stack, path, "autorizar")
    text = await text_of(stack, case, "Confirmación: ha autorizado el acceso remoto")
    state = (
        await stack.http.get(f"/cases/{case['case_id']}", headers=stack.auth("key-ops"))
    ).json()
    until = state["authorizations"][-1]["access_until"]
    assert until is not None
    assert "el técnico puede conectarse a su equipo una o varias veces" in text
    assert path in text
    other, other_path = await requested(stack)
    await decide(stack, other_path, "rechazar")
    text = await text_of(stack, other, "Confirmación: ha rechazado el acceso remoto")
    assert "El técnico no accederá a su equipo." in text


async def test_the_customer_reads_the_technicians_name_not_a_login(stack: ApiStack) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    request_mail = await text_of(stack, case, "Solicitud de autorización")
    assert "Ana García, del equipo de soporte técnico" in request_mail
    page = await stack.http.get(path)
    assert "autorizo a Ana García de amger:pro" in page.text
    assert "<dd>Ana García</dd>" in page.text
    await decide(stack, path, "autorizar")
    # A supervisor starts the session: the session mail and page name that person.
    assert (await stack.act(case_id, "remote-session/start", key="key-sofia")).status_code == 200
    text = await text_of(stack, case, "Sesión de acceso remoto iniciada")
    assert "Sofía Martín, del equipo de soporte técnico" in text
    state = (await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ops"))).json()
    consent = state["authorizations"][-1]["consents"][0]["text_shown"]
    assert "autorizo a Ana García de amger:pro" in consent
    assert state["authorizations"][-1]["agent"] == "ana"  # the actor stays the login
    assert state["authorizations"][-1]["agent_name"] == "Ana García"
    assert state["sessions"][-1]["agent_name"] == "Sofía Martín"
