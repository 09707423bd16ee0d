"""What the customer's pages say, derived from the case alone.

The pages never take the outcome of a form post as authority: after a POST they redirect
to the GET page with a hint (`?respuesta=autorizar&resultado=hecho`), and the GET page
reads the case's state, here, and shows the hint only when the state agrees with it.
Pure functions, so every state can be rendered and checked without a server.

The rule the pages, the mails and the consent text state: an authorization, once given,
lasts until `access_until` (or the customer's revocation, or the case moving on); a
session's end does not end it, and the technician may start another session until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from core.labels import access_label
from core.store import AuthorizationLink
from workflows.models import AuthorizationStatus, CaseState, RemoteAuthorization, RemoteSession

Decision = Literal["authorized", "rejected", "revoked"]
DECISIONS: dict[str, Decision] = {
    "autorizar": "authorized",
    "rechazar": "rejected",
    "revocar": "revoked",
}
OUTCOMES = ("hecho", "ya", "no")

# One title per state: a screen reader hears what happened, not the same words always.
TITLES = {
    "pending": "¿Autoriza el acceso remoto a su equipo?",
    "authorized": "Acceso remoto autorizado",
    "session_active": "Sesión de acceso remoto en curso",
    "session_ended": "Sesión terminada: su autorización sigue vigente",
    "rejected": "Acceso remoto rechazado",
    "revoked": "Autorización revocada",
    "expired": "Solicitud de acceso remoto caducada",
    "ended": "Autorización de acceso remoto finalizada",
    "replaced": "Solicitud sustituida por otra más reciente",
    "resolved": "Acceso remoto ya no activo: caso resuelto",
    "cancelled": "Acceso remoto ya no activo: caso cancelado",
    "inactive": "Acceso remoto ya no activo",
}
_DONE = {
    "authorized": "Gracias: hemos registrado su autorización.",
    "rejected": "Hemos registrado que rechaza el acceso remoto.",
    "revoked": "Hemos registrado su revocación: el técnico ya no puede acceder a su equipo.",
}
_ALREADY = {
    "authorized": "Ya había autorizado este acceso; no ha cambiado nada.",
    "rejected": "Ya había rechazado esta solicitud; no ha cambiado nada.",
    "revoked": "Ya había revocado esta autorización; no ha cambiado nada.",
}
_VERBS = {"authorized": "autorizar", "rejected": "rechazar", "revoked": "revocar"}


@dataclass(frozen=True)
class AccessView:
    """The state of one authorization (and, on the session page, one session)."""

    status: str  # a key of TITLES
    title: str
    access: str = ""
    agent: str = ""
    decided_at: datetime | None = None  # the customer's decision that put it in this state
    access_until: datetime | None = None  # how long the technician may connect
    expires_at: datetime | None = None  # the request's answer deadline
    closed_at: datetime | None = None  # when the case (or a new request) ended it
    was_granted: bool = False  # for the ended states: the customer had authorized it
    may_revoke: bool = False
    session: RemoteSession | None = None
    sessions: list[RemoteSession] = field(default_factory=list)

    @property
    def decision(self) -> Decision | None:
        """The decision this state is the outcome of, if any."""
        if self.status in ("authorized", "session_active", "session_ended"):
            return "authorized"
        return DECISIONS.get({"rejected": "rechazar", "revoked": "revocar"}.get(self.status, ""))


def shown_name(who: RemoteAuthorization | RemoteSession) -> str:
    """The technician as the customer knows them: the person's name, not a login."""
    return who.agent_name or who.agent


def _consent_at(auth: RemoteAuthorization, decision: str) -> datetime | None:
    return next((c.at for c in reversed(auth.consents) if c.decision == decision), None)


def _superseded(state: CaseState, auth: RemoteAuthorization) -> tuple[str, datetime | None]:
    """Why a request stopped counting: a newer request, or the case was resolved or
    cancelled (the only ways `transitions` supersedes one)."""
    later = [a for a in state.authorizations if a.requested_at > auth.requested_at]
    if later:
        return "replaced", later[0].requested_at
    if state.cancelled_at is not None:
        return "cancelled", state.cancelled_at
    resolved = [r.at for r in state.resolutions if r.at >= auth.requested_at]
    if resolved:
        return "resolved", resolved[0]
    return "inactive", None


def _status(
    state: CaseState, auth: RemoteAuthorization, now: datetime
) -> tuple[str, datetime | None, datetime | None]:
    """(status, when the customer decided it, when it stopped counting)."""
    s, until = auth.status, auth.access_until
    if s is AuthorizationStatus.PENDING:
        return ("pending" if now < auth.expires_at else "expired"), None, None
    if s is AuthorizationStatus.GRANTED and until is not None and now < until:
        return "authorized", _consent_at(auth, "authorized"), None
    if s is AuthorizationStatus.GRANTED or (s is AuthorizationStatus.EXPIRED and until):
        return "ended", None, until  # the end the customer agreed to
    if s is AuthorizationStatus.REJECTED:
        return "rejected", _consent_at(auth, "rejected"), None
    if s is AuthorizationStatus.REVOKED:
        return "revoked", _consent_at(auth, "revoked"), None
    if s is AuthorizationStatus.SUPERSEDED:
        why, at = _superseded(state, auth)
        return why, None, at
    return "expired", None, None  # not answered in time


def authorization_view(state: CaseState, request_id: str, now: datetime) -> AccessView:
    """What the authorization page says about the request behind the link, at `now`.

    `now` settles pending against expired before the workflow's timer has recorded the
    expiry; a request the case does not hold shows as no longer active.
    """
    auth = next((a for a in state.authorizations if a.request_id == request_id), None)
    if auth is None:
        return AccessView(status="inactive", title=TITLES["inactive"])
    status, decided_at, closed_at = _status(state, auth, now)
    return AccessView(
        status=status,
        title=TITLES[status],
        access=auth.access.value,
        agent=shown_name(auth),
        decided_at=decided_at,
        access_until=auth.access_until,
        expires_at=auth.expires_at,
        closed_at=closed_at,
        was_granted=_consent_at(auth, "authorized") is not None,
        may_revoke=status == "authorized",
        sessions=[s for s in state.sessions if s.request_id == request_id],
    )


def session_view(state: CaseState, request_id: str, session_id: str, now: datetime) -> AccessView:
    """A session's page: the session itself while it runs; once it ended, what the
    authorization behind it still allows (it may be valid: say so, offer revocation)."""
    view = authorization_view(state, request_id, now)
    session = next((s for s in state.sessions if s.session_id == session_id), None)
    status = view.status
    if status == "authorized":
        active = session is not None and session.ended_at is None
        status = "session_active" if active else "session_ended"
    agent = shown_name(session) if session is not None else view.agent
    return replace(view, status=status, title=TITLES[status], agent=agent, session=session)


def outcome_message(view: AccessView, answer: str | None, result: str | None) -> str | None:
    """The sentence for the redirect's hint, if the case's state bears it out."""
    decision = DECISIONS.get(answer or "")
    if decision is None or result not in OUTCOMES:
        return None
    if result == "no":
        return (
            f"No se ha podido {_VERBS[decision]}: esta solicitud ya no lo admite. "
            "Abajo tiene su estado actual."
        )
    if view.decision != decision:
        return None  # the case has moved on since: the page shows what holds now
    return _DONE[decision] if result == "hecho" else _ALREADY[decision]


def page_context(
    view: AccessView,
    state: CaseState,
    tz: str,
    action_url: str,
    message: str | None,
    link: AuthorizationLink | None = None,
) -> dict[str, Any]:
    """What a page's template gets; `link` (the stored request, as the mail showed it) for
    the authorization page."""
    context: dict[str, Any] = {
        "title": view.title,
        "view": view,
        "tz": tz,
        "case_id": state.case_id,
        "action_url": action_url,
        "message": message,
    }
    if link is not None:
        context |= {
            "summary": state.summary,
            "customer_name": state.customer.name,
            "access_label": access_label(link.access),
            "reason": link.reason,
            "text_shown": link.text_shown,
        }
    return context
