"""Pages the customer opens from our emails (Spanish, server-rendered, no JavaScript).

Only the one-time token in the link can authorize remote access: these routes take no
API key, and no agent route can send the decision. The decision goes to the workflow,
whose validator has the last word; a double click carries the same request id, so it
is answered rather than applied twice. A POST then redirects (303) to the GET page,
which shows what the case records (`api.customer_view`), so a reload never posts again.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.client import Client

from activities.messaging import hash_secret
from api.customer_view import (
    DECISIONS,
    AccessView,
    Decision,
    authorization_view,
    outcome_message,
    page_context,
    session_view,
)
from api.deps import NowDep, PolicyDep, Services, ServicesDep, SettingsDep, TemporalDep
from api.errors import ActionRefused
from api.pages import gone, page, see
from api.workflow_gateway import current_case, send_update
from core.settings import Settings
from workflows import consent
from workflows.case import CaseWorkflow
from workflows.models import CaseState, DecideRemoteAccess

router = APIRouter(tags=["customer"], include_in_schema=False)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{30,100}$")
# What a mail client or a person may glue to the end of a pasted link.
_TRAILING = ".,;:!?)]}>»\"'"
_AUTH, _SESSION = "/autorizacion/", "/sesion-remota/"


def _clean(token: str) -> str:
    return token.strip().rstrip(_TRAILING)


def _customer_decision(
    request: Request,
    state: CaseState,
    authorization_id: str,
    decision: Decision,
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


def _answer(request: Request) -> tuple[str | None, str | None]:
    q = request.query_params
    return q.get("respuesta"), q.get("resultado")


def _back(prefix: str, token: str, answer: str, result: str) -> RedirectResponse:
    return see(f"{prefix}{token}?{urlencode({'respuesta': answer, 'resultado': result})}")


def _render(
    request: Request, name: str, token: str, view: AccessView, state: CaseState, tz: str,
    row: dict[str, Any] | None = None,
) -> HTMLResponse:  # fmt: skip
    prefix = _AUTH if row is not None else _SESSION
    message = outcome_message(view, *_answer(request))
    return page(request, name, 200, **page_context(view, state, tz, prefix + token, message, row))


@router.get("/autorizacion/{token}", response_class=HTMLResponse)
async def authorizationpage(
    token: str,
    request: Request,
    services: ServicesDep,
    policy: PolicyDep,
    now: NowDep,
) -> HTMLResponse:
    token = _clean(token)
    found = await _load(services, "remote_authorizations", token)
    if found is None:
        return gone(request)
    row, state = found
    view = authorization_view(state, row["request_id"], now)
    return _render(request, "authorization.html", token, view, state, policy.timezone, row)


async def _decide(
    request: Request,
    services: Services,
    temporal: Client,
    settings: Settings,
    state: CaseState,
    request_id: str,
    decision: Decision,
    text_shown: str,
) -> str:
    """Sends the decision; the redirect's hint: `hecho` or `no` (refused by the case)."""
    cmd = _customer_decision(request, state, request_id, decision, text_shown)
    try:
        await send_update(
            temporal, state.case_id, CaseWorkflow.decide_remote_access, cmd, settings.update_timeout
        )
    except ActionRefused:
        return "no"  # the state moved under us: the GET page shows where it is now
    await services.store.record_decision(
        request_id=request_id, decision=decision, ip=cmd.ip, user_agent=cmd.user_agent
    )
    return "hecho"


def _before(view: AccessView, decision: Decision) -> str | None:
    """`ya` when the case already records this decision, `no` when it cannot take it
    now, None when it may be sent."""
    if view.decision == decision:
        return "ya"
    wanted = "authorized" if decision == "revoked" else "pending"
    return None if view.status == wanted else "no"


@router.post("/autorizacion/{token}", response_class=HTMLResponse)
async def authorization_decision(
    token: str,
    request: Request,
    services: ServicesDep,
    temporal: TemporalDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    token = _clean(token)
    word = await _decision(request) or ""
    decision = DECISIONS.get(word)
    if decision is None:
        return gone(request, 400)
    found = await _load(services, "remote_authorizations", token)
    if found is None:
        return gone(request)
    row, state = found
    view = authorization_view(state, row["request_id"], now)
    result = _before(view, decision) or await _decide(
        request, services, temporal, settings, state, row["request_id"], decision,
        row["text_shown"],
    )  # fmt: skip
    return _back(_AUTH, token, word, result)


@router.get("/sesion-remota/{code}", response_class=HTMLResponse)
async def sessionpage(
    code: str,
    request: Request,
    services: ServicesDep,
    policy: PolicyDep,
    now: NowDep,
) -> HTMLResponse:
    code = _clean(code)
    found = await _load(services, "remote_sessions", code)
    if found is None:
        return gone(request)
    row, state = found
    view = session_view(state, row["request_id"], row["session_id"], now)
    return _render(request, "session.html", code, view, state, policy.timezone)


@router.post("/sesion-remota/{code}", response_class=HTMLResponse)
async def session_revoke(
    code: str,
    request: Request,
    services: ServicesDep,
    temporal: TemporalDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    code = _clean(code)
    found = await _load(services, "remote_sessions", code)
    if found is None or await _decision(request) != "revocar":
        return gone(request, 404 if found is None else 400)
    row, state = found
    view = session_view(state, row["request_id"], row["session_id"], now)
    result = "ya" if view.status == "revoked" else None if view.may_revoke else "no"
    result = result or await _decide(
        request, services, temporal, settings, state, row["request_id"], "revoked",
        "Revocación desde la página de la sesión",
    )  # fmt: skip
    return _back(_SESSION, code, "revocar", result)
