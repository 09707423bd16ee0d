"""Pages the customer opens from our emails (Spanish, server-rendered, no JavaScript).

Only the one-time token in the link can authorize remote access: these routes take no
API key, and no agent route can send the decision. The decision goes to the workflow,
whose validator has the last word; a double click carries the same request id, so it
is answered rather than applied twice. A POST then redirects (303) to the GET page,
which shows what the case records (`api.customer_view`), so a reload never posts again.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.consent import (
    Opened,
    Visitor,
    decide_authorization,
    open_authorization,
    open_session,
    revoke_from_session,
)
from api.customer_view import (
    DECISIONS,
    outcome_message,
    page_context,
)
from api.deps import NowDep, PolicyDep, ServicesDep, SettingsDep, TemporalDep
from api.pages import gone, page, see
from api.responses import CUSTOMER_PAGE, CUSTOMER_POST, decision_form
from core.store import AuthorizationLink

router = APIRouter(tags=["customer"])

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{30,100}$")
# What a mail client or a person may glue to the end of a pasted link.
_TRAILING = ".,;:!?)]}>»\"'"
_AUTH, _SESSION = "/autorizacion/", "/sesion-remota/"


async def _decision(request: Request) -> str | None:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    values = form.get("decision", [])
    return values[0] if len(values) == 1 else None


def _token(token: str) -> str | None:
    """The link's secret as pasted, or None when it cannot be one (no lookup then)."""
    token = token.strip().rstrip(_TRAILING)
    return token if _TOKEN.match(token) else None


def _answer(request: Request) -> tuple[str | None, str | None]:
    q = request.query_params
    return q.get("respuesta"), q.get("resultado")


def _back(prefix: str, token: str, answer: str, result: str) -> RedirectResponse:
    return see(f"{prefix}{token}?{urlencode({'respuesta': answer, 'resultado': result})}")


def _render(
    request: Request, name: str, token: str, opened: Opened, tz: str,
    link: AuthorizationLink | None = None,
) -> HTMLResponse:  # fmt: skip
    prefix = _AUTH if link is not None else _SESSION
    view, state = opened.view, opened.state
    message = outcome_message(view, *_answer(request))
    return page(request, name, 200, **page_context(view, state, tz, prefix + token, message, link))


@router.get("/autorizacion/{token}", response_class=HTMLResponse, responses=CUSTOMER_PAGE)
async def authorizationpage(
    token: str,
    request: Request,
    services: ServicesDep,
    policy: PolicyDep,
    now: NowDep,
) -> HTMLResponse:
    """The page the customer opens from the mail that asks for remote access.

    The token in the path is the only credential (no API key), so an unknown, mistyped or
    used-up link gets the same 404 page and says nothing about which. What the page shows
    is read from the case, so after a decision a reload shows what holds now.
    """
    secret = _token(token)
    link = None if secret is None else await services.store.links.authorization(token=secret)
    opened = None if link is None else await open_authorization(services, link, now)
    if secret is None or link is None or opened is None:
        return gone(request)
    return _render(request, "authorization.html", secret, opened, policy.timezone, link)


@router.post(
    "/autorizacion/{token}",
    response_class=HTMLResponse,
    status_code=303,
    responses=CUSTOMER_POST,
    openapi_extra=decision_form(list(DECISIONS)),
)
async def authorization_decision(
    token: str,
    request: Request,
    services: ServicesDep,
    temporal: TemporalDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    """The customer's answer from that page: `autorizar`, `rechazar` or `revocar`.

    The only way consent reaches a case: no route with an API key can send it. The case
    keeps who decided, from which address and browser, and the text they were shown; a
    double click is answered once. Done, already done or refused, it is a 303 back to the
    page, which shows the outcome only if the case bears it out.
    """
    word = await _decision(request) or ""
    decision = DECISIONS.get(word)
    if decision is None:
        return gone(request, 400)
    secret = _token(token)
    link = None if secret is None else await services.store.links.authorization(token=secret)
    result = None if link is None else await decide_authorization(
        services, temporal, settings, link=link, decision=decision,
        visitor=Visitor.of(request), now=now,
    )  # fmt: skip
    if secret is None or result is None:
        return gone(request)
    return _back(_AUTH, secret, word, result)


@router.get("/sesion-remota/{code}", response_class=HTMLResponse, responses=CUSTOMER_PAGE)
async def sessionpage(
    code: str,
    request: Request,
    services: ServicesDep,
    policy: PolicyDep,
    now: NowDep,
) -> HTMLResponse:
    """The page of a remote session, from the mail sent when it started.

    While the customer's authorization lasts, here too they may revoke it. The code in the
    path is the only credential, as on the authorization page.
    """
    secret = _token(code)
    link = None if secret is None else await services.store.links.session(code=secret)
    opened = None if link is None else await open_session(services, link, now)
    if secret is None or opened is None:
        return gone(request)
    return _render(request, "session.html", secret, opened, policy.timezone)


@router.post(
    "/sesion-remota/{code}",
    response_class=HTMLResponse,
    status_code=303,
    responses=CUSTOMER_POST,
    openapi_extra=decision_form(["revocar"]),
)
async def session_revoke(
    code: str,
    request: Request,
    services: ServicesDep,
    temporal: TemporalDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    """The customer withdraws remote access from the session page (`revocar` only).

    A running session ends and no new one may start. Done, already done or refused, it is
    a 303 back to the page.
    """
    secret = _token(code)
    link = None if secret is None else await services.store.links.session(code=secret)
    if secret is None or link is None or await _decision(request) != "revocar":
        return gone(request, 404 if link is None else 400)
    result = await revoke_from_session(
        services, temporal, settings, link=link, visitor=Visitor.of(request), now=now
    )
    if result is None:
        return gone(request)
    return _back(_SESSION, secret, "revocar", result)
