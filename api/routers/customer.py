"""Pages the customer opens from our emails (Spanish, server-rendered, no JavaScript).

Only the one-time token in the link can authorize remote access: these routes take no
API key, and no agent route can send the decision. The token's hash is looked up and
locked, the decision goes to the workflow (whose validator has the last word), and only
then is the token marked used, in the same transaction, so a refused or failed attempt
consumes nothing and two clicks cannot both win.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from activities.mail import format_local
from activities.messaging import hash_secret
from api.deps import NowDep, PolicyDep, Services, ServicesDep, SettingsDep, TemporalDep
from api.errors import ActionRefused
from api.pages import gone, page
from api.workflow_gateway import current_case, send_update
from workflows import consent
from workflows.case import CaseWorkflow
from workflows.models import AuthorizationStatus, CaseState, DecideRemoteAccess

router = APIRouter(tags=["customer"], include_in_schema=False)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{30,100}$")
_ACCESS = {"view": "ver su pantalla (solo visualización)", "control": "controlar su equipo"}
_DECISIONS: dict[str, Literal["authorized", "rejected", "revoked"]] = {
    "autorizar": "authorized",
    "rechazar": "rejected",
    "revocar": "revoked",
}


def _status(state: CaseState, request_id: str, now: datetime) -> str:
    auth = next((a for a in state.authorizations if a.request_id == request_id), None)
    if auth is None:
        return "expired"
    if auth.status is AuthorizationStatus.PENDING:
        return "pending" if now < auth.expires_at else "expired"
    return {
        AuthorizationStatus.GRANTED: "authorized",
        AuthorizationStatus.REJECTED: "rejected",
        AuthorizationStatus.REVOKED: "revoked",
    }.get(auth.status, "expired")


def _customer_decision(
    request: Request,
    state: CaseState,
    authorization_id: str,
    decision: Literal["authorized", "rejected", "revoked"],
    text_shown: str,
) -> DecideRemoteAccess:
    """The consent record: who (the customer, by the link), from where, what they saw.
    The request id makes a double click or a retried POST apply once; the proof tells
    the workflow that this page, after checking the token, made the decision."""
    agent = request.headers.get("user-agent")
    return DecideRemoteAccess(
        actor=f"cliente:{state.customer.id}",
        request_id=f"{authorization_id}:{decision}",
        authorization_id=authorization_id,
        decision=decision,
        ip=request.client.host if request.client else None,
        user_agent=None if agent is None else "".join(c for c in agent if c.isprintable())[:500],
        text_shown=text_shown,
        proof=consent.sign(state.case_id, authorization_id, decision, text_shown),
    )


async def _decision(request: Request) -> str | None:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    values = form.get("decision", [])
    return values[0] if len(values) == 1 else None


async def _load(
    services: Services, table: str, token: str
) -> tuple[dict[str, Any], CaseState] | None:
    if not _TOKEN.match(token):
        return None
    row = await services.store.customer_link(table=table, digest=hash_secret(token))
    if row is None:
        return None
    state = await current_case(services, str(row["case_id"]))
    return None if state is None else (row, state)


def _authorization_page(
    request: Request,
    row: dict[str, Any],
    state: CaseState,
    tz: str,
    status: str,
    message: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "authorization.html",
        code,
        case_id=state.case_id,
        summary=state.summary,
        customer_name=state.customer.name,
        agent=row["agent"],
        access_label=_ACCESS.get(row["access"], row["access"]),
        reason=row["reason"],
        expires_at_text=format_local(row["expires_at"], tz),
        text_shown=row["text_shown"],
        status=status,
        action_url=str(request.url.path),
        message=message,
    )


@router.get("/autorizacion/{token}", response_class=HTMLResponse)
async def authorizationpage(
    token: str,
    request: Request,
    services: ServicesDep,
    policy: PolicyDep,
    now: NowDep,
) -> HTMLResponse:
    found = await _load(services, "remote_authorizations", token)
    if found is None:
        return gone(request)
    row, state = found
    status = _status(state, row["request_id"], now)
    return _authorization_page(request, row, state, policy.timezone, status)


_DONE = {
    "authorized": "Acceso autorizado. Gracias: el técnico ya puede conectarse.",
    "rejected": "Ha rechazado el acceso remoto. Le contactaremos por otra vía.",
    "revoked": "Autorización revocada. El técnico ya no puede acceder a su equipo.",
}
_REFUSED = "Esta solicitud ya no admite esa acción."


@router.post("/autorizacion/{token}", response_class=HTMLResponse)
async def authorization_decision(
    token: str,
    request: Request,
    services: ServicesDep,
    temporal: TemporalDep,
    policy: PolicyDep,
    now: NowDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """No lock is held while the workflow decides: it is the one authority (its
    validator checks the request's state), and a double click carries the same request
    id, so it is answered rather than applied twice. The page then says what the case
    now records, never what it merely asked for."""
    decision = _DECISIONS.get(await _decision(request) or "")
    if decision is None:
        return gone(request, 400)
    found = await _load(services, "remote_authorizations", token)
    if found is None:
        return gone(request)
    row, state = found
    request_id, tz = row["request_id"], policy.timezone
    wanted = "authorized" if decision == "revoked" else "pending"
    if _status(state, request_id, now) != wanted:
        return _authorization_page(
            request, row, state, tz, _status(state, request_id, now), _REFUSED, 409
        )
    cmd = _customer_decision(request, state, request_id, decision, row["text_shown"])
    try:
        state = await send_update(
            temporal, state.case_id, CaseWorkflow.decide_remote_access, cmd, settings.update_timeout
        )
    except ActionRefused:
        status = _status(await current_case(services, state.case_id) or state, request_id, now)
        return _authorization_page(request, row, state, tz, status, _REFUSED, 409)
    status = _status(state, request_id, now)
    done = status == decision  # the statuses the page shows use the decisions' words
    await services.store.record_decision(
        request_id=request_id, decision=decision, ip=cmd.ip, user_agent=cmd.user_agent
    )
    message = _DONE[decision] if done else _REFUSED
    return _authorization_page(request, row, state, tz, status, message, 200 if done else 409)


def _session_page(
    request: Request,
    row: dict[str, Any],
    state: CaseState,
    tz: str,
    message: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    session = next((s for s in state.sessions if s.session_id == row["session_id"]), None)
    active = session is not None and session.ended_at is None
    return page(
        request,
        "session.html",
        code,
        case_id=state.case_id,
        agent=session.agent if session else "",
        status="active" if active else "ended",
        expires_at_text=format_local(row["expires_at"], tz),
        action_url=str(request.url.path),
        message=message,
    )


@router.get("/sesion-remota/{code}", response_class=HTMLResponse)
async def sessionpage(
    code: str,
    request: Request,
    services: ServicesDep,
    policy: PolicyDep,
    now: NowDep,
) -> HTMLResponse:
    found = await _load(services, "remote_sessions", code)
    if found is None:
        return gone(request)
    row, state = found
    if now >= row["expires_at"]:
        return gone(request, 410)
    return _session_page(request, row, state, policy.timezone)


@router.post("/sesion-remota/{code}", response_class=HTMLResponse)
async def session_revoke(
    code: str,
    request: Request,
    services: ServicesDep,
    temporal: TemporalDep,
    policy: PolicyDep,
    now: NowDep,
    settings: SettingsDep,
) -> HTMLResponse:
    timeout = settings.update_timeout
    found = await _load(services, "remote_sessions", code)
    if found is None or await _decision(request) != "revocar":
        return gone(request, 404 if found is None else 400)
    row, state = found
    if _status(state, row["request_id"], now) != "authorized":
        return _session_page(
            request, row, state, policy.timezone, "La sesión ya no está activa.", 409
        )
    cmd = _customer_decision(
        request, state, row["request_id"], "revoked", "Revocación desde la página de la sesión"
    )
    state = await send_update(
        temporal, state.case_id, CaseWorkflow.decide_remote_access, cmd, timeout
    )
    if _status(state, row["request_id"], now) != "revoked":
        return _session_page(
            request, row, state, policy.timezone, "La sesión ya no está activa.", 409
        )
    await services.store.record_decision(
        request_id=row["request_id"], decision="revoked", ip=cmd.ip, user_agent=cmd.user_agent
    )
    return _session_page(
        request, row, state, policy.timezone, "Autorización revocada. La sesión ha terminado."
    )
