"""Remote access in workflows/transitions.py without a server: the request, the
customer's decision, sessions, and what supersedes an open authorization."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.pure_cases import (
    NOW,
    auth_of,
    contact,
    decide,
    emailed,
    end,
    granted,
    in_session,
    registered,
    request,
    resolve,
    session_of,
    start,
    types,
)
from workflows import transitions as tr
from workflows.domain import Stage
from workflows.effects import (
    SYSTEM,
    CustomerMessage,
    Effects,
    Event,
    EventType,
    Notice,
    confirmations,
)
from workflows.models import (
    AuthorizationStatus,
    RemoteAccessKind,
    RequestRemoteAccess,
    ResolutionMethod,
)

CUSTOMER = "cliente:C-42"
MINUTE = timedelta(minutes=1)


def consent(decision: str, at: str) -> dict[str, str]:
    return {
        "decision": decision,
        "at": at,
        "ip": "192.0.2.7",
        "user_agent": "Firefox",
        "text_shown": "Autorizo el acceso remoto.",
    }


def test_request_asks_the_customer_and_waits_for_authorization() -> None:
    state = registered()
    emailed(state)
    fx = request(state, NOW + MINUTE, access=RemoteAccessKind.VIEW)
    assert fx.events == [
        Event(
            EventType.REMOTE_ACCESS_REQUESTED,
            "ana",
            {
                "request_id": "req-1",
                "access": "view",
                "reason": "Revisar el servidor de correo",
                "expires_at": "2026-11-25T11:01:00+00:00",
            },
        ),
        Event(EventType.STAGE_CHANGED, "ana", {"old": "contacto", "new": "autorizacion_remota"}),
    ]
    assert fx.notices == []
    assert fx.customer == [CustomerMessage.AUTHORIZATION_REQUEST]
    auth = auth_of(state)
    assert auth.model_dump(mode="json") == {
        "request_id": "req-1",
        "access": "view",
        "reason": "Revisar el servidor de correo",
        "agent": "ana",
        "agent_name": None,
        "requested_at": "2026-11-25T10:01:00Z",
        "expires_at": "2026-11-25T11:01:00Z",
        "status": "pending",
        "access_until": None,
        "consents": [],
    }


@pytest.mark.parametrize("first", [AuthorizationStatus.PENDING, AuthorizationStatus.GRANTED])
def test_a_second_request_supersedes_the_open_authorization(
    first: AuthorizationStatus,
) -> None:
    state = granted() if first is AuthorizationStatus.GRANTED else registered()
    if first is AuthorizationStatus.PENDING:
        emailed(state)
        request(state)
    old = auth_of(state)
    assert old.status is first
    fx = request(state, NOW + MINUTE, "req-2")
    assert fx.events[0] == Event(EventType.REMOTE_ACCESS_SUPERSEDED, "ana", {"request_id": "req-1"})
    assert types(fx)[1] == "remote_access_requested"
    assert old.status is AuthorizationStatus.SUPERSEDED
    assert [a.request_id for a in state.authorizations] == ["req-1", "req-2"]
    assert auth_of(state).status is AuthorizationStatus.PENDING
    assert state.stage is Stage.AUTORIZACION_REMOTA


@pytest.mark.parametrize("decision", ["rejected", "revoked"])
def test_a_request_after_a_closed_authorization_supersedes_nothing(decision: str) -> None:
    state = granted()
    if decision == "rejected":
        request(state, NOW, "req-0")  # pending again, then rejected
        decide(state, "rejected")
    else:
        decide(state, "revoked")
    closed = auth_of(state)
    fx = request(state, NOW + MINUTE, "req-2")
    assert types(fx) == ["remote_access_requested", "stage_changed"]
    assert closed.status.value == decision


def test_authorization_grants_access_for_the_session_ttl() -> None:
    state = registered()
    emailed(state)
    request(state)
    fx = decide(state, "authorized", NOW + MINUTE)
    assert fx.events == [
        Event(
            EventType.REMOTE_ACCESS_AUTHORIZED,
            CUSTOMER,
            {
                "request_id": "req-1",
                "access": "control",
                "access_until": "2026-11-25T12:01:00+00:00",
                "consent": consent("authorized", "2026-11-25T10:01:00Z"),
            },
        ),
        Event(
            EventType.STAGE_CHANGED,
            CUSTOMER,
            {"old": "autorizacion_remota", "new": "acceso_remoto"},
        ),
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.REMOTE_ACCESS_AUTHORIZED,
            "Caso CASE-000123: el cliente autorizó el acceso remoto (control).",
        )
    ]
    assert fx.customer == []
    auth = auth_of(state)
    assert auth.status is AuthorizationStatus.GRANTED
    assert auth.access_until == NOW + MINUTE + timedelta(hours=2)
    assert [c.model_dump(mode="json") for c in auth.consents] == [
        consent("authorized", "2026-11-25T10:01:00Z")
    ]


def test_rejection_goes_back_to_contact() -> None:
    state = registered()
    emailed(state)
    request(state)
    fx = decide(state, "rejected", NOW + MINUTE)
    assert fx.events == [
        Event(
            EventType.REMOTE_ACCESS_REJECTED,
            CUSTOMER,
            {"request_id": "req-1", "consent": consent("rejected", "2026-11-25T10:01:00Z")},
        ),
        Event(EventType.STAGE_CHANGED, CUSTOMER, {"old": "autorizacion_remota", "new": "contacto"}),
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.REMOTE_ACCESS_REJECTED,
            "Caso CASE-000123: el cliente rechazó el acceso remoto.",
        )
    ]
    auth = auth_of(state)
    assert auth.status is AuthorizationStatus.REJECTED
    assert auth.access_until is None
    assert len(auth.consents) == 1


def test_revocation_ends_the_running_session() -> None:
    state = in_session()
    fx = decide(state, "revoked", NOW + 2 * MINUTE)
    assert fx.events == [
        Event(
            EventType.REMOTE_ACCESS_REVOKED,
            CUSTOMER,
            {"request_id": "req-1", "consent": consent("revoked", "2026-11-25T10:02:00Z")},
        ),
        Event(
            EventType.REMOTE_SESSION_ENDED,
            SYSTEM,
            {
                "session_id": "ses-1",
                "outcome": "revoked_by_customer",
                "summary": "Revocado por el cliente",
            },
        ),
        Event(EventType.STAGE_CHANGED, CUSTOMER, {"old": "acceso_remoto", "new": "contacto"}),
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.REMOTE_ACCESS_REVOKED,
            "Caso CASE-000123: el cliente revocó la autorización de acceso remoto.",
        )
    ]
    assert auth_of(state).status is AuthorizationStatus.REVOKED
    session = session_of(state)
    assert session.ended_at == NOW + 2 * MINUTE
    assert (session.outcome, session.summary) == ("revoked_by_customer", "Revocado por el cliente")
    assert state.active_session is None
    assert [c.decision for c in auth_of(state).consents] == ["authorized", "revoked"]


def test_revocation_without_a_session_ends_none() -> None:
    state = granted()
    fx = decide(state, "revoked")
    assert types(fx) == ["remote_access_revoked", "stage_changed"]
    assert state.sessions == []


def test_a_session_runs_until_the_authorization_ends() -> None:
    state = granted()
    fx = start(state, NOW + 5 * MINUTE)
    assert fx.events == [
        Event(
            EventType.REMOTE_SESSION_STARTED,
            "ana",
            {
                "session_id": "ses-1",
                "request_id": "req-1",
                "access": "control",
                "expires_at": "2026-11-25T12:00:00+00:00",
            },
        )
    ]
    assert fx.notices == []
    assert fx.customer == [CustomerMessage.SESSION_LINK]
    assert session_of(state).model_dump(mode="json") == {
        "session_id": "ses-1",
        "request_id": "req-1",
        "agent": "ana",
        "agent_name": None,
        "started_at": "2026-11-25T10:05:00Z",
        "expires_at": "2026-11-25T12:00:00Z",
        "ended_at": None,
        "outcome": None,
        "summary": None,
    }
    assert state.active_session is session_of(state)
    assert state.stage is Stage.ACCESO_REMOTO


def test_the_agent_ends_the_session_with_a_summary() -> None:
    state = in_session()
    fx = end(state, NOW + 30 * MINUTE)
    assert fx.events == [
        Event(
            EventType.REMOTE_SESSION_ENDED,
            "ana",
            {"session_id": "ses-1", "outcome": "completed", "summary": "Cola de correo vaciada"},
        )
    ]
    assert fx.notices == []
    assert fx.customer == []
    session = session_of(state)
    assert session.ended_at == NOW + 30 * MINUTE
    assert (session.outcome, session.summary) == ("completed", "Cola de correo vaciada")
    assert state.active_session is None
    assert state.stage is Stage.ACCESO_REMOTO  # the authorization is still usable


def test_end_active_session_without_a_session_does_nothing() -> None:
    state = granted()
    fx = Effects()
    tr.end_active_session(state, NOW, "expired", "x", fx)
    assert not fx
    assert state.sessions == []


def test_end_active_session_leaves_an_ended_session_alone() -> None:
    state = in_session()
    end(state, NOW + MINUTE)
    fx = Effects()
    tr.end_active_session(state, NOW + 2 * MINUTE, "expired", "x", fx)
    assert not fx
    assert session_of(state).ended_at == NOW + MINUTE
    assert session_of(state).outcome == "completed"


def test_a_phone_call_during_a_session_keeps_the_remote_stage() -> None:
    state = in_session()
    fx = contact(state, NOW + MINUTE, attempt_id="att-2")
    assert types(fx) == ["contact_logged"]
    assert state.stage is Stage.ACCESO_REMOTO


def test_a_phone_call_with_access_but_no_session_moves_to_phone_resolution() -> None:
    state = granted()
    fx = contact(state, NOW + MINUTE, attempt_id="att-2")
    assert fx.events[1] == Event(
        EventType.STAGE_CHANGED, "ana", {"old": "acceso_remoto", "new": "resolucion_telefonica"}
    )
    assert auth_of(state).status is AuthorizationStatus.GRANTED


def test_a_phone_call_while_waiting_for_authorization_keeps_waiting() -> None:
    state = registered()
    emailed(state)
    request(state)
    fx = contact(state, NOW + MINUTE, attempt_id="att-2")
    assert types(fx) == ["contact_logged"]
    assert state.stage is Stage.AUTORIZACION_REMOTA


@pytest.mark.parametrize("pending", [True, False])
def test_cancel_supersedes_an_open_authorization(pending: bool) -> None:
    state = granted()
    if pending:
        request(state, NOW, "req-2")
    fx = tr.cancel(state, "ana", "El cliente lo resolvió solo", NOW + MINUTE)
    request_id = "req-2" if pending else "req-1"
    old_stage = "autorizacion_remota" if pending else "acceso_remoto"
    assert fx.events == [
        Event(EventType.REMOTE_ACCESS_SUPERSEDED, "ana", {"request_id": request_id}),
        Event(EventType.CASE_CANCELLED, "ana", {"reason": "El cliente lo resolvió solo"}),
        Event(EventType.STAGE_CHANGED, "ana", {"old": old_stage, "new": "cancelado"}),
    ]
    assert auth_of(state).status is AuthorizationStatus.SUPERSEDED


def test_resolving_supersedes_a_granted_authorization() -> None:
    state = in_session()
    end(state, NOW + MINUTE)
    fx = resolve(state, NOW + 2 * MINUTE, (ResolutionMethod.REMOTE,))
    assert types(fx) == ["remote_access_superseded", "case_resolved", "stage_changed"]
    assert fx.events[0].actor == "ana"
    assert auth_of(state).status is AuthorizationStatus.SUPERSEDED
    assert fx.events[1].data["methods"] == ["remote"]


def test_a_revocation_during_phone_resolution_keeps_the_phone_stage() -> None:
    state = granted()
    contact(state, NOW + MINUTE, attempt_id="att-2")  # the customer was reached by phone
    assert state.stage is Stage.RESOLUCION_TELEFONICA
    decide(state, "revoked", NOW + 2 * MINUTE)
    assert state.stage is Stage.RESOLUCION_TELEFONICA


def test_the_technicians_display_name_is_kept_beside_the_login() -> None:
    state = registered()
    emailed(state)
    cmd = RequestRemoteAccess(
        actor="ana", agent_name="Ana García", reason="Revisar", access=RemoteAccessKind.VIEW
    )
    tr.request_remote(state, cmd, NOW, "req-1")
    assert (auth_of(state).agent, auth_of(state).agent_name) == ("ana", "Ana García")
    decide(state, "authorized")
    tr.start_session(state, "sofia", NOW, "ses-1", "Sofía Martín")
    assert (session_of(state).agent, session_of(state).agent_name) == ("sofia", "Sofía Martín")


def test_each_decision_and_a_sessions_end_ask_for_one_confirmation_mail() -> None:
    state = registered()
    emailed(state)
    request(state)
    confirm = confirmations
    assert confirm(decide(state, "authorized")) == [CustomerMessage.ACCESS_AUTHORIZED]
    assert confirm(start(state)) == []
    assert confirm(end(state)) == [CustomerMessage.SESSION_ENDED]
    start(state, session_id="ses-2")
    # The revocation's mail tells of the session it ended: one mail, not two.
    assert confirm(decide(state, "revoked")) == [CustomerMessage.ACCESS_REVOKED]
    rejected = registered()
    emailed(rejected)
    request(rejected)
    assert confirm(decide(rejected, "rejected")) == [CustomerMessage.ACCESS_REJECTED]
