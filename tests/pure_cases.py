"""Cases built with the pure transitions, for the server-free tests of the core.

Every state starts from `workflows.transitions.initial_state(tests.builders.case_input(...))`
and moves only through the public functions of `workflows.transitions` and
`workflows.deadlines`, as the workflow moves it. NOW is a Wednesday, 11:00 in Madrid:
business hours, no holiday nearby, winter time (+01:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from tests.builders import case_input
from workflows import transitions as tr
from workflows.domain import Plan, Severity
from workflows.effects import Effects
from workflows.models import (
    CaseState,
    CaseTimings,
    ContactChannel,
    ContactOutcome,
    DecideRemoteAccess,
    EndRemoteSession,
    LogContact,
    RemoteAccessKind,
    RemoteAuthorization,
    RemoteSession,
    RequestRemoteAccess,
    ResolutionMethod,
    Resolve,
)
from workflows.sla import SlaPolicy, load_policy
from workflows.transitions import initial_state

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # 22:00 in Madrid, outside business hours
CASE_ID = "CASE-000123"
SECOND = timedelta(seconds=1)
POLICY: SlaPolicy = load_policy()
# Round figures, so every instant the tests expect can be written out by hand.
TIMINGS = CaseTimings(
    authorization_ttl_seconds=3600,
    session_ttl_seconds=7200,
    reopen_window_seconds=86400,
)


def new_case(
    plan: Plan = Plan.PREMIUM,
    severity: Severity = Severity.A,
    at: datetime = NOW,
    timings: CaseTimings = TIMINGS,
) -> CaseState:
    """A case as the workflow starts it, before its registration."""
    return initial_state(
        case_input(plan, severity, registered_at=at, case_id=CASE_ID, timings=timings)
    )


def registered(
    plan: Plan = Plan.PREMIUM,
    severity: Severity = Severity.A,
    at: datetime = NOW,
    timings: CaseTimings = TIMINGS,
) -> CaseState:
    state = new_case(plan, severity, at, timings)
    tr.register(state)
    return state


def contact(
    state: CaseState,
    at: datetime = NOW,
    channel: ContactChannel = ContactChannel.PHONE,
    outcome: ContactOutcome = ContactOutcome.REACHED,
    attempt_id: str = "att-1",
    note: str | None = None,
) -> Effects:
    cmd = LogContact(actor="ana", channel=channel, outcome=outcome, note=note)
    return tr.log_contact(state, cmd, at, attempt_id)


def emailed(state: CaseState, at: datetime = NOW) -> Effects:
    """An email to the customer: a first response that leaves no phone method."""
    return contact(state, at, ContactChannel.EMAIL, ContactOutcome.SENT)


def request(
    state: CaseState,
    at: datetime = NOW,
    request_id: str = "req-1",
    access: RemoteAccessKind = RemoteAccessKind.CONTROL,
    reason: str = "Revisar el servidor de correo",
) -> Effects:
    cmd = RequestRemoteAccess(actor="ana", reason=reason, access=access)
    return tr.request_remote(state, cmd, at, request_id)


def decision(
    state: CaseState, kind: Literal["authorized", "rejected", "revoked"]
) -> DecideRemoteAccess:
    auth = state.authorization
    assert auth is not None
    return DecideRemoteAccess(
        actor="cliente:C-42",
        authorization_id=auth.request_id,
        decision=kind,
        ip="192.0.2.7",
        user_agent="Firefox",
        text_shown="Autorizo el acceso remoto.",
    )


def decide(
    state: CaseState, kind: Literal["authorized", "rejected", "revoked"], at: datetime = NOW
) -> Effects:
    return tr.decide_remote(state, decision(state, kind), at)


def start(state: CaseState, at: datetime = NOW, session_id: str = "ses-1") -> Effects:
    return tr.start_session(state, "ana", at, session_id)


def end(state: CaseState, at: datetime = NOW) -> Effects:
    cmd = EndRemoteSession(actor="ana", outcome="completed", summary="Cola de correo vaciada")
    return tr.end_session(state, cmd, at)


def resolve(
    state: CaseState,
    at: datetime = NOW,
    methods: tuple[ResolutionMethod, ...] = (ResolutionMethod.PHONE,),
) -> Effects:
    cmd = Resolve(actor="ana", methods=list(methods), summary="Reiniciado el servicio SMTP")
    return tr.resolve(state, cmd, at)


def awaiting_consent(
    at: datetime = NOW, reason: str = "Revisar el servidor de correo"
) -> CaseState:
    """Premium/A, answered by email at `at`, remote access requested then."""
    state = registered(at=at)
    emailed(state, at)
    request(state, at, reason=reason)
    return state


def granted(at: datetime = NOW) -> CaseState:
    """Premium/A, answered by email at `at`, remote access requested and authorized then."""
    state = awaiting_consent(at)
    decide(state, "authorized", at)
    return state


def in_session(at: datetime = NOW) -> CaseState:
    state = granted(at)
    start(state, at)
    return state


def auth_of(state: CaseState) -> RemoteAuthorization:
    auth = state.authorization
    assert auth is not None
    return auth


def session_of(state: CaseState) -> RemoteSession:
    assert state.sessions
    return state.sessions[-1]


def resolved(at: datetime = NOW) -> CaseState:
    """Premium/A reached by phone at `at` and resolved by phone then."""
    state = registered(at=at)
    contact(state, at)
    resolve(state, at)
    return state


def types(fx: Effects) -> list[str]:
    return [e.type.value for e in fx.events]
