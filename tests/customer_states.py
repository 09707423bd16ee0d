"""Every state of the customer's pages and every customer mail, rendered from cases built
with the real transitions (no server): the accessibility test and the pure page tests
look at the same HTML the customer gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from api.customer_view import authorization_view, outcome_message, page_context, session_view
from api.pages import render as render_page
from core.customer_mail import CONFIRMATIONS, confirmation_context
from core.mail import DEFAULT_SUPPORT, authorization_text, render
from core.store import AuthorizationLink
from tests import pure_cases as pc
from workflows import transitions as tr
from workflows.deadlines import fire_due
from workflows.effects import CustomerMessage
from workflows.messages import customer_mail
from workflows.models import CaseState, RemoteAccessKind, ResolutionMethod

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


def _row(state: CaseState, request_id: str = "req-1") -> AuthorizationLink:
    auth = next(a for a in state.authorizations if a.request_id == request_id)
    text = authorization_text(
        state.customer.name, auth.agent, auth.access.value, state.case_id, auth.reason, 2
    )
    return AuthorizationLink(
        request_id=request_id,
        case_id=state.case_id,
        access=auth.access.value,
        reason=auth.reason,
        agent=auth.agent,
        access_hours=2,
        text_shown=text,
        expires_at=auth.expires_at,
    )


def _authorized(view: bool = False) -> CaseState:
    state = _case()
    if view:
        state.authorizations[-1].access = RemoteAccessKind.VIEW
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


def _mail(kind: CustomerMessage, state: CaseState) -> tuple[str, str, str | None]:
    mail = customer_mail(kind, state, "x")
    context: dict[str, Any] = {}
    if mail.resolution is not None:
        context |= mail.resolution.model_dump()
    if kind in CONFIRMATIONS:
        context |= confirmation_context(mail, LINK)
    elif mail.authorization is not None:
        a = mail.authorization
        context |= {
            "link": LINK, "agent": a.agent, "access": a.access.value, "reason": a.reason,
            "expires_at": a.expires_at, "access_hours": a.access_hours,
        }  # fmt: skip
    elif mail.session is not None:
        context |= {
            "link": LINK,
            "agent": mail.session.agent,
            "expires_at": mail.session.expires_at,
        }
    return render(kind.value, case=mail.case, tz=TZ, **context)


def customer_mails() -> dict[str, tuple[str, str, str | None]]:
    """Every customer mail, from the case the workflow would send it about."""
    m = CustomerMessage
    return {
        "acknowledgement": _mail(m.ACKNOWLEDGEMENT, pc.registered()),
        "authorization_request": _mail(m.AUTHORIZATION_REQUEST, _case()),
        "session_link": _mail(m.SESSION_LINK, _in_session()),
        "resolution": _mail(m.RESOLUTION, _resolved()),
        "access_authorized": _mail(m.ACCESS_AUTHORIZED, _authorized()),
        "access_authorized_view": _mail(m.ACCESS_AUTHORIZED, _authorized(view=True)),
        "access_rejected": _mail(m.ACCESS_REJECTED, _rejected()),
        "access_revoked": _mail(m.ACCESS_REVOKED, _revoked()),
        "session_ended_still_authorized": _mail(m.SESSION_ENDED, _session_over()),
        "session_ended_at_the_authorizations_end": _mail(m.SESSION_ENDED, _access_over()),
    }


def _access_over() -> CaseState:
    """The authorization reached its end during a session (the deadline's own change)."""
    state = _in_session()
    fire_due(state, pc.NOW + 2 * HOUR)
    return state
