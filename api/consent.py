"""The customer's decision on a one-time link, from the page to the case.

A page's route parses, finds the link (`core.store.LinkStore`), calls one function of
this module and renders. Here: the case as it is now (`api.workflow_gateway`), whether
the decision can still be sent, the consent record the workflow checks, the update,
and the note beside the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from temporalio.client import Client

from api.customer_view import AccessView, Decision, authorization_view, session_view
from api.deps import Services
from api.errors import ActionRefused
from api.workflow_gateway import current_case, send_update
from core.settings import Settings
from core.store import AuthorizationLink, SessionLink
from workflows import consent
from workflows.case import CaseWorkflow
from workflows.models import CaseState, DecideRemoteAccess

# The text a revocation from a session page records as shown to the customer.
SESSION_REVOCATION_TEXT = "Revocación desde la página de la sesión"


@dataclass(frozen=True)
class Visitor:
    """Where a decision came from, as the consent record keeps it."""

    ip: str | None
    user_agent: str | None

    @classmethod
    def of(cls, request: Request) -> Visitor:
        """The request's address and browser, as evidence of where the decision came from.

        The user agent is the visitor's own text and stays in the case for good: printable
        characters only, at most 500.
        """
        agent = request.headers.get("user-agent")
        printable = None if agent is None else "".join(c for c in agent if c.isprintable())
        return cls(
            ip=request.client.host if request.client else None,
            user_agent=None if printable is None else printable[:500],
        )


@dataclass(frozen=True)
class Opened:
    """A link's case as it is now, and what the page says about the link."""

    state: CaseState
    view: AccessView


async def open_authorization(
    services: Services, link: AuthorizationLink, now: datetime
) -> Opened | None:
    """The case behind an authorization link; None when the case cannot be found."""
    state = await current_case(services, link.case_id)
    if state is None:
        return None
    return Opened(state, authorization_view(state, link.request_id, now))


async def open_session(services: Services, link: SessionLink, now: datetime) -> Opened | None:
    """The case behind a session link; None when the case cannot be found."""
    state = await current_case(services, link.case_id)
    if state is None:
        return None
    return Opened(state, session_view(state, link.request_id, link.session_id, now))


async def decide_authorization(
    services: Services,
    temporal: Client,
    settings: Settings,
    *,
    link: AuthorizationLink,
    decision: Decision,
    visitor: Visitor,
    now: datetime,
) -> str | None:
    """The customer's decision from the authorization page; the redirect's hint (`hecho`,
    `ya` or `no`), or None when the case cannot be found."""
    opened = await open_authorization(services, link, now)
    if opened is None:
        return None
    return _before(opened.view, decision) or await _decide(
        services, temporal, settings, opened.state, link.request_id, decision, visitor,
        link.text_shown,
    )  # fmt: skip


async def revoke_from_session(
    services: Services,
    temporal: Client,
    settings: Settings,
    *,
    link: SessionLink,
    visitor: Visitor,
    now: datetime,
) -> str | None:
    """The customer's revocation from a session page; the redirect's hint, or None when
    the case cannot be found."""
    opened = await open_session(services, link, now)
    if opened is None:
        return None
    view = opened.view
    result = "ya" if view.status == "revoked" else None if view.may_revoke else "no"
    return result or await _decide(
        services, temporal, settings, opened.state, link.request_id, "revoked", visitor,
        SESSION_REVOCATION_TEXT,
    )  # fmt: skip


def _before(view: AccessView, decision: Decision) -> str | None:
    """`ya` when the case already records this decision, `no` when it cannot take it
    now, None when it may be sent."""
    if view.decision == decision:
        return "ya"
    wanted = "authorized" if decision == "revoked" else "pending"
    return None if view.status == wanted else "no"


def _customer_decision(
    state: CaseState,
    authorization_id: str,
    decision: Decision,
    visitor: Visitor,
    text_shown: str,
) -> DecideRemoteAccess:
    """The consent record: who (the customer, by the link), from where, what they saw.
    The request id makes a double click or a retried POST apply once; the proof tells
    the workflow that this page, after checking the token, made the decision."""
    return DecideRemoteAccess(
        actor=f"cliente:{state.customer.id}",
        request_id=f"{authorization_id}:{decision}",
        authorization_id=authorization_id,
        decision=decision,
        ip=visitor.ip,
        user_agent=visitor.user_agent,
        text_shown=text_shown,
        proof=consent.sign(state.case_id, authorization_id, decision, text_shown),
    )


async def _decide(
    services: Services,
    temporal: Client,
    settings: Settings,
    state: CaseState,
    request_id: str,
    decision: Decision,
    visitor: Visitor,
    text_shown: str,
) -> str:
    """Sends the decision; the redirect's hint: `hecho` or `no` (refused by the case)."""
    cmd = _customer_decision(state, request_id, decision, visitor, text_shown)
    try:
        await send_update(
            temporal, state.case_id, CaseWorkflow.decide_remote_access, cmd, settings.update_timeout
        )
    except ActionRefused:
        return "no"  # the state moved under us: the GET page shows where it is now
    await services.store.links.record_decision(
        request_id=request_id, decision=decision, ip=cmd.ip, user_agent=cmd.user_agent
    )
    return "hecho"
