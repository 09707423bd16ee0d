"""Every state of the customer's pages and every customer mail, rendered from cases built
with the real transitions (no server): the accessibility test and the pure page tests
look at the same HTML the customer gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from activities.mail import DEFAULT_SUPPORT, authorization_text, render
from api.customer_view import authorization_view, outcome_message, page_context, session_view
from api.pages import render as render_page
from tests import pure_cases as pc
from workflows import transitions as tr
from workflows.effects import CustomerMessage
from workflows.messages import customer_mail
from workflows.models import CaseState, ResolutionMethod

TZ = "Europe/Madrid"
HOUR = timedelta(hours=1)
LINK = "https://soporte.amger.pro/autorizacion/AbC-123_xyz-0123456789-abcdefghijklmnopq"
# What broke the 360 px layout: a path with no place to break.
LONG_REASON = (
    "Revisar C:\\Users\\lucia.perez\\AppData\\Local\\Microsoft\\Outlook\\"
    "lucia.perez@ejemplo-de-empresa-muy-larga.com-0000000000000000.ost, que no sincroniza"
)


def _case(reason: str = LONG_REASON) -> CaseState:
    state = pc.registered()
    pc.emailed(state)
    pc.request(state)
    state.authorizations[-1].reason = reason
    return state


def _row(state: CaseState, request_id: str = "req-1") -> dict[str, Any]:
    auth = next(a for a in state.authorizations if a.request_id == request_id)
    text = authorization_text(
        state.customer.name, auth.agent, auth.access.value, state.case_id, auth.reason, 2
    )
    return {"access": auth.access.value, "reason": auth.reason, "text_shown": text}


def _authorized() -> CaseState:
    state = _case()
    pc.decide(state, "authorized")
    return state


def _in_session() -> CaseState:
    state = _authorized()
    pc.start(state, pc.NOW + HOUR / 4)
    return state


def _session_over() -> CaseState:
    state = _in_session()
    pc.end(state, pc.NOW + HOUR / 2)
    return state


def _revoked() -> CaseState:
    state = _in_session()
    pc.decide(state, "revoked", pc.NOW + HOUR / 2)
    return state


def _rejected() -> CaseState:
    state = _case()
    pc.decide(state, "rejected")
    return state


def _replaced() -> CaseState:
    state = _authorized()
    pc.request(state, pc.NOW + HOUR / 2, request_id="req-2")
    return state


def _resolved() -> CaseState:
    state = _session_over()
    pc.resolve(state, pc.NOW + HOUR, methods=(ResolutionMethod.REMOTE,))
    return state


def _cancelled() -> CaseState:
    state = _case()
    tr.cancel(state, "ana", "Duplicado", pc.NOW + HOUR / 2)
    return state


LATER = pc.NOW + HOUR / 2
# name: (case, instant the page is looked at, the redirect's hint)
AUTHORIZATION_STATES: dict[str, tuple[Callable[[], CaseState], datetime, tuple[str, str]]] = {
    "pending": (_case, LATER, ("", "")),
    "pending-refused-revocation": (_case, LATER, ("revocar", "no")),
    "authorized": (_authorized, LATER, ("autorizar", "hecho")),
    "authorized-again": (_authorized, LATER, ("autorizar", "ya")),
    "authorized-in-session": (_in_session, LATER, ("", "")),
    "rejected": (_rejected, LATER, ("rechazar", "hecho")),
    "revoked": (_revoked, LATER, ("revocar", "hecho")),
    "expired": (_case, pc.NOW + 2 * HOUR, ("autorizar", "no")),
    "ended": (_authorized, pc.NOW + 3 * HOUR, ("", "")),
    "replaced": (_replaced, LATER, ("", "")),
    "resolved": (_resolved, pc.NOW + 2 * HOUR, ("", "")),
    "cancelled": (_cancelled, LATER, ("", "")),
}
SESSION_STATES: dict[str, tuple[Callable[[], CaseState], datetime, tuple[str, str]]] = {
    "session-active": (_in_session, LATER, ("", "")),
    "session-ended-still-authorized": (_session_over, pc.NOW + HOUR, ("", "")),
    "session-revoked": (_revoked, pc.NOW + HOUR, ("revocar", "hecho")),
    "session-authorization-ended": (_session_over, pc.NOW + 3 * HOUR, ("", "")),
    "session-case-resolved": (_resolved, pc.NOW + 2 * HOUR, ("", "")),
}


def authorization_page(name: str) -> str:
    build, now, answer = AUTHORIZATION_STATES[name]
    state = build()
    view = authorization_view(state, "req-1", now)
    context = page_context(
        view, state, TZ, "/autorizacion/tok", outcome_message(view, *answer), _row(state)
    )
    return render_page("authorization.html", support=DEFAULT_SUPPORT, **context)


def session_page(name: str) -> str:
    build, now, answer = SESSION_STATES[name]
    state = build()
    view = session_view(state, "req-1", "ses-1", now)
    context = page_context(view, state, TZ, "/sesion-remota/c", outcome_message(view, *answer))
    return render_page("session.html", support=DEFAULT_SUPPORT, **context)


def notice_pages() -> dict[str, str]:
    titles = {
        "gone": "Enlace no disponible",
        "unavailable": "Servicio no disponible en este momento",
    }
    return {
        k: render_page("notice.html", title=t, message="Mensaje.", support=DEFAULT_SUPPORT)
        for k, t in titles.items()
    }


def customer_mails() -> dict[str, tuple[str, str, str | None]]:
    """Every customer mail, as `activities.messaging` renders it."""
    context: dict[str, dict[str, Any]] = {
        "acknowledgement": {},
        "authorization_request": {
            "link": LINK, "agent": "Marta Gil", "access": "control", "reason": LONG_REASON,
            "expires_at": pc.NOW + HOUR, "access_hours": 2.0,
        },
        "session_link": {"link": LINK, "agent": "Marta Gil", "expires_at": pc.NOW + 2 * HOUR},
        "resolution": {
            "summary": "Reiniciado el servicio SMTP", "methods": ["phone"],
            "reopen_until": pc.NOW + 24 * HOUR,
        },
    }  # fmt: skip
    state = pc.registered()
    out = {}
    for kind, extra in context.items():
        mail = customer_mail(CustomerMessage(kind), state, "x")
        out[kind] = render(kind, case=mail.case, tz=TZ, **extra)
    return out
