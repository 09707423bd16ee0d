"""workflows/deadlines.py without a server: every deadline one second before, exactly at
and one second after its instant, what it does when it fires, and the table's order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from tests.pure_cases import (
    NIGHT,
    NOW,
    SECOND,
    TIMINGS,
    auth_of,
    contact,
    emailed,
    granted,
    in_session,
    registered,
    request,
    resolved,
    types,
)
from workflows import transitions as tr
from workflows.deadlines import DEADLINES, fire_due, pending
from workflows.domain import Plan, Severity, SlaState, Stage
from workflows.effects import SYSTEM, Effects, Event, EventType, Notice
from workflows.models import AuthorizationStatus, CaseState, ContactOutcome

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MORNING = datetime.fromisoformat("2026-11-26T09:00:00+01:00")  # after NIGHT, business hours
LABELS = {
    "queue": "Entrada en la cola de agentes",
    "warning": "Aviso de SLA (respuesta inicial)",
    "breach": "Vencimiento de SLA (respuesta inicial)",
    "request_expiry": "Caduca la solicitud de autorización remota",
    "access_end": "Fin de la autorización de acceso remoto",
    "auto_close": "Cierre automático tras la ventana de reapertura",
}


def queued_later() -> CaseState:
    return registered(Plan.FREE, Severity.B, NIGHT)


def warned() -> CaseState:
    state = registered()
    fire_due(state, NOW + 45 * MINUTE)
    return state


def waiting_for_customer() -> CaseState:
    state = registered()
    emailed(state)
    request(state)
    return state


# name, the case, its instant, the event types it fires (nothing else is due around it).
DEADLINE_CASES: list[tuple[str, Callable[[], CaseState], datetime, list[str]]] = [
    ("queue", queued_later, MORNING, ["case_queued"]),
    ("warning", registered, NOW + 45 * MINUTE, ["sla_warning"]),
    ("breach", warned, NOW + HOUR, ["sla_breached"]),
    (
        "request_expiry",
        waiting_for_customer,
        NOW + HOUR,
        ["remote_access_expired", "stage_changed"],
    ),
    ("access_end", granted, NOW + 2 * HOUR, ["remote_access_ended", "stage_changed"]),
    ("auto_close", resolved, NOW + 24 * HOUR, ["case_closed", "stage_changed"]),
]


def test_the_table_names_every_deadline_in_firing_order() -> None:
    assert [(d.name, d.label) for d in DEADLINES] == list(LABELS.items())


@pytest.mark.parametrize(
    ("name", "build", "instant", "fired"), DEADLINE_CASES, ids=[c[0] for c in DEADLINE_CASES]
)
def test_each_deadline_is_due_at_its_instant(
    name: str, build: Callable[[], CaseState], instant: datetime, fired: list[str]
) -> None:
    state = build()
    assert pending(state)[0] == (instant, LABELS[name])
    assert not fire_due(state, instant - SECOND)
    assert types(fire_due(state, instant)) == fired
    assert not fire_due(state, instant + SECOND)  # fired once, not again
    assert LABELS[name] not in [label for _, label in pending(state)]


@pytest.mark.parametrize(
    ("name", "build", "instant", "fired"), DEADLINE_CASES, ids=[c[0] for c in DEADLINE_CASES]
)
def test_a_deadline_past_its_instant_fires_at_once(
    name: str, build: Callable[[], CaseState], instant: datetime, fired: list[str]
) -> None:
    state = build()
    assert types(fire_due(state, instant + SECOND)) == fired


@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_queue_entry_records_when_it_happened(late: timedelta) -> None:
    state = queued_later()
    fx = fire_due(state, MORNING + late)
    assert state.queued_at == MORNING + late
    assert fx.events == [
        Event(EventType.CASE_QUEUED, SYSTEM, {"attention_from": "2026-11-26T09:00:00+01:00"})
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.CASE_QUEUED,
            "Caso CASE-000123 (gravedad B, plan free) en cola: El correo no funciona",
        )
    ]


@pytest.mark.parametrize(("late", "minutes"), [(timedelta(0), 15), (SECOND, 14)])
def test_the_warning_says_the_whole_minutes_left(late: timedelta, minutes: int) -> None:
    state = registered()
    fx = fire_due(state, NOW + 45 * MINUTE + late)
    assert fx.events == [
        Event(
            EventType.SLA_WARNING,
            SYSTEM,
            {
                "warning_at": "2026-11-25T11:45:00+01:00",
                "response_due": "2026-11-25T12:00:00+01:00",
            },
        )
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.SLA_WARNING,
            f"Caso CASE-000123: la respuesta inicial vence en {minutes} min "
            "(2026-11-25T12:00:00+01:00).",
        )
    ]
    assert state.sla.warned_at == NOW + 45 * MINUTE + late
    assert state.sla.state is SlaState.PENDING


def test_a_late_warning_never_counts_negative_minutes() -> None:
    state = registered()
    fx = fire_due(state, NOW + HOUR + SECOND)  # the worker was away across both instants
    assert "vence en 0 min" in fx.notices[0].message


@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_the_breach_tells_the_supervisors(late: timedelta) -> None:
    state = warned()
    fx = fire_due(state, NOW + HOUR + late)
    assert fx.events == [
        Event(EventType.SLA_BREACHED, SYSTEM, {"response_due": "2026-11-25T12:00:00+01:00"})
    ]
    assert fx.notices == [
        Notice(
            "supervisors",
            EventType.SLA_BREACHED,
            "Caso CASE-000123: incumplido el tiempo de respuesta inicial "
            "(vencía 2026-11-25T12:00:00+01:00).",
        )
    ]
    assert state.sla.state is SlaState.BREACHED
    assert state.sla.breached_at == NOW + HOUR + late
    assert state.sla.responded_at is None


def test_a_warning_and_a_breach_due_together_both_happen_in_order() -> None:
    state = registered()
    fx = fire_due(state, NOW + HOUR)
    assert types(fx) == ["sla_warning", "sla_breached"]
    assert [n.audience for n in fx.notices] == ["agents", "supervisors"]
    assert "vence en 0 min" in fx.notices[0].message
    assert state.sla.warned_at == state.sla.breached_at == NOW + HOUR


def test_no_sla_deadline_once_answered_or_without_commitment() -> None:
    answered = registered()
    emailed(answered, NOW + MINUTE)
    assert pending(answered) == []
    assert not fire_due(answered, NOW + 2 * HOUR)
    uncommitted = registered(Plan.BASICO, Severity.C)
    assert pending(uncommitted) == []
    assert not fire_due(uncommitted, NOW + 30 * 24 * HOUR)
    assert uncommitted.sla.warned_at is uncommitted.sla.breached_at is None


@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_an_unanswered_request_expires(late: timedelta) -> None:
    state = waiting_for_customer()
    fx = fire_due(state, NOW + HOUR + late)
    assert fx.events == [
        Event(
            EventType.REMOTE_ACCESS_EXPIRED,
            SYSTEM,
            {"request_id": "req-1", "expires_at": "2026-11-25T11:00:00+00:00"},
        ),
        Event(EventType.STAGE_CHANGED, SYSTEM, {"old": "autorizacion_remota", "new": "contacto"}),
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.REMOTE_ACCESS_EXPIRED,
            "Caso CASE-000123: la autorización remota caducó sin respuesta del cliente.",
        )
    ]
    assert auth_of(state).status is AuthorizationStatus.EXPIRED
    assert state.stage is Stage.CONTACTO


def test_the_end_of_access_ends_the_running_session() -> None:
    state = in_session()
    end_of_access = NOW + 2 * HOUR
    assert not fire_due(state, end_of_access - SECOND)
    fx = fire_due(state, end_of_access)
    assert fx.events == [
        Event(
            EventType.REMOTE_SESSION_ENDED,
            SYSTEM,
            {
                "session_id": "ses-1",
                "outcome": "expired",
                "summary": "La autorización llegó a su fin",
            },
        ),
        Event(
            EventType.REMOTE_ACCESS_ENDED,
            SYSTEM,
            {"request_id": "req-1", "access_until": "2026-11-25T12:00:00+00:00"},
        ),
        Event(EventType.STAGE_CHANGED, SYSTEM, {"old": "acceso_remoto", "new": "contacto"}),
    ]
    assert fx.notices == []
    assert fx.customer == []
    assert auth_of(state).status is AuthorizationStatus.EXPIRED
    assert state.sessions[0].ended_at == end_of_access
    assert state.active_session is None


def test_the_end_of_access_leaves_phone_resolution_where_it_is() -> None:
    state = granted()
    contact(state, NOW + MINUTE, attempt_id="att-2")
    assert state.stage is Stage.RESOLUCION_TELEFONICA
    fx = fire_due(state, NOW + 2 * HOUR)
    assert types(fx) == ["remote_access_ended"]
    assert state.stage is Stage.RESOLUCION_TELEFONICA
    assert auth_of(state).status is AuthorizationStatus.EXPIRED


def test_the_reopen_window_closes_the_case_by_itself() -> None:
    state = resolved()
    end_of_window = NOW + 24 * HOUR
    fx = fire_due(state, end_of_window)
    assert fx.events == [
        Event(EventType.CASE_CLOSED, SYSTEM, {"automatic": True}),
        Event(EventType.STAGE_CHANGED, SYSTEM, {"old": "resuelto", "new": "cerrado"}),
    ]
    assert state.closed_at == end_of_window
    assert state.reopen_until is None


def test_pending_lists_every_deadline_earliest_first() -> None:
    state = registered(
        at=NIGHT, timings=TIMINGS.model_copy(update={"authorization_ttl_seconds": 600})
    )
    contact(state, NIGHT, outcome=ContactOutcome.NO_ANSWER)  # still unanswered
    request(state, NIGHT)  # the customer has 10 min to authorize
    assert pending(state) == [
        (NIGHT + 10 * MINUTE, LABELS["request_expiry"]),
        (NIGHT + 45 * MINUTE, LABELS["warning"]),
        (NIGHT + HOUR, LABELS["breach"]),
    ]


def test_a_closed_or_cancelled_case_has_no_deadline() -> None:
    state = registered()
    tr.cancel(state, "ana", "Duplicado", NOW)
    assert state.sla.state is SlaState.PENDING
    assert pending(state) == []
    assert fire_due(state, NOW + 2 * HOUR) == Effects()
    assert state.sla.state is SlaState.PENDING
    closed = resolved()
    tr.close(closed, "ana", NOW, automatic=False)
    assert pending(closed) == []
    assert not fire_due(closed, NOW + 48 * HOUR)
