"""The customer's pages in every state, without a server: what each says, which buttons
it offers, and that the redirect's hint never outranks the case."""

from __future__ import annotations

import re

import pytest

from api.customer_view import authorization_view, outcome_message
from tests import customer_states as cs
from tests import pure_cases as pc

BUTTONS = {
    "pending": ["autorizar", "rechazar"],
    "pending-refused-revocation": ["autorizar", "rechazar"],
    "authorized": ["revocar"],
    "authorized-again": ["revocar"],
    "authorized-in-session": ["revocar"],
    "session-active": ["revocar"],
    "session-ended-still-authorized": ["revocar"],
}


def heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html)
    assert found is not None
    return found.group(1)


def all_pages() -> dict[str, str]:
    pages = {n: cs.authorization_page(n) for n in cs.AUTHORIZATION_STATES}
    return pages | {n: cs.session_page(n) for n in cs.SESSION_STATES}


@pytest.mark.parametrize("name", [*cs.AUTHORIZATION_STATES, *cs.SESSION_STATES])
def test_every_state_has_its_title_buttons_and_the_way_to_reach_us(name: str) -> None:
    html = all_pages()[name]
    title = heading(html)
    assert f"<title>{title} · amger:pro soporte técnico</title>" in html
    found = [v for v in ("autorizar", "rechazar", "revocar") if f'value="{v}"' in html]
    assert found == BUTTONS.get(name, [])
    assert "<script" not in html
    assert 'class="case-id">CASE-000123<' in html
    assert "900 264 377" in html
    assert "soporte@amger.pro" in html
    assert 'id="resultado"' in html or name == "pending"


def test_titles_differ_between_states() -> None:
    pages = all_pages()
    titles = {heading(pages[n]) for n in ("pending", "authorized", "rejected", "revoked")}
    assert len(titles) == 4
    assert heading(pages["revoked"]) == "Autorización revocada"


def test_the_reason_is_escaped_and_shown_whole() -> None:
    html = cs.authorization_page("pending")
    assert "C:\\Users\\lucia.perez\\AppData" in html
    assert "overflow-wrap: anywhere" in html
    state = pc.awaiting_consent(reason="Ver <Outlook>")
    view = authorization_view(state, "req-1", pc.NOW)
    assert view.status == "pending"


def test_no_page_says_expired_or_no_access_when_that_is_not_so() -> None:
    pages = all_pages()
    for name in ("resolved", "replaced", "cancelled", "session-case-resolved"):
        assert "caduc" not in pages[name], name
    still = pages["session-ended-still-authorized"]
    assert "ya no tiene acceso" not in still
    assert "sigue vigente hasta el miércoles, 25 de noviembre de 2026, 13:00" in still
    assert "le enviaremos un correo con el enlace de la sesión" in pages["authorized"]
    assert "No tiene que instalar nada" in pages["authorized"]


def test_the_hint_is_shown_only_when_the_case_agrees() -> None:
    state = pc.granted()
    view = authorization_view(state, "req-1", cs.LATER)
    assert outcome_message(view, "autorizar", "ya") == (
        "Ya había autorizado este acceso; no ha cambiado nada."
    )
    assert outcome_message(view, "rechazar", "hecho") is None
    assert outcome_message(view, "autorizar", "otro") is None
    assert outcome_message(view, None, None) is None
    refused = outcome_message(view, "rechazar", "no")
    assert refused is not None
    assert refused.startswith("No se ha podido rechazar")
    pending = authorization_view(pc.awaiting_consent(), "req-1", cs.LATER)
    assert outcome_message(pending, "autorizar", "hecho") is None
    assert authorization_view(state, "req-unknown", cs.LATER).status == "inactive"
