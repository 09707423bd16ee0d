"""workflows/transitions.py without a server: registration, contacts and the first
response, resolution, closing, reopening, cancelling and the failure notices.

Every event, notice and customer mail is asserted whole, in order. Remote access is in
test_transitions_remote.py, reclassification in test_transitions_reclassify.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.pure_cases import (
    CASE_ID,
    NIGHT,
    NOW,
    SECOND,
    contact,
    emailed,
    new_case,
    registered,
    resolve,
    resolved,
    types,
)
from workflows import transitions as tr
from workflows.deadlines import fire_due
from workflows.domain import Plan, Severity, SlaState, Stage
from workflows.effects import SYSTEM, CustomerMessage, Effects, Event, EventType, Notice
from workflows.models import ContactOutcome, ResolutionMethod

DUE = NOW + timedelta(hours=1)  # premium/A: 1 h, 24/7
QUEUED_NOTICE = Notice(
    "agents",
    EventType.CASE_QUEUED,
    "Caso CASE-000123 (gravedad A, plan premium) en cola: El correo no funciona",
)


def test_initial_sla_is_pending_only_with_a_commitment() -> None:
    committed = new_case(Plan.PREMIUM, Severity.A)
    assert committed.sla.state is SlaState.PENDING
    assert committed.sla.responded_at is committed.sla.warned_at is None
    assert tr.initial_sla(committed.sla.commitment).state is SlaState.PENDING
    uncommitted = new_case(Plan.BASICO, Severity.C)
    assert uncommitted.sla.state is SlaState.NOT_COMMITTED
    assert tr.initial_sla(uncommitted.sla.commitment).state is SlaState.NOT_COMMITTED


def test_register_a_24_7_case_queues_it_at_registration() -> None:
    state = new_case()
    fx = tr.register(state)
    assert fx.events == [
        Event(
            EventType.CASE_REGISTERED,
            "centralita",
            {
                "plan": "premium",
                "severity": "A",
                "severity_assignment": {
                    "severity": "A",
                    "reason": "test",
                    "rule": None,
                    "impact": None,
                },
                "commitment": {
                    "policy_version": "2026-11-01",
                    "availability": "24/7",
                    "target": "1h",
                    "committed": True,
                    "response_due": "2026-11-25T12:00:00+01:00",
                    "warning_at": "2026-11-25T11:45:00+01:00",
                    "attention_from": "2026-11-25T11:00:00+01:00",
                },
            },
        ),
        Event(EventType.CASE_QUEUED, SYSTEM, {"attention_from": "2026-11-25T11:00:00+01:00"}),
    ]
    assert fx.notices == [QUEUED_NOTICE]
    assert fx.customer == [CustomerMessage.ACKNOWLEDGEMENT]
    assert state.queued_at == NOW
    assert state.stage is Stage.REGISTRO


def test_register_a_business_hours_case_at_night_leaves_it_out_of_the_queue() -> None:
    state = new_case(Plan.FREE, Severity.B, NIGHT)
    fx = tr.register(state)
    assert types(fx) == ["case_registered"]
    assert fx.events[0].data["commitment"]["attention_from"] == "2026-11-26T09:00:00+01:00"
    assert fx.events[0].data["commitment"]["availability"] == "business_hours"
    assert fx.notices == []
    assert fx.customer == [CustomerMessage.ACKNOWLEDGEMENT]
    assert state.queued_at is None


def test_enter_queue_records_the_instant_and_tells_the_agents() -> None:
    state = new_case(Plan.FREE, Severity.B, NIGHT)
    fx = Effects()
    later = NIGHT + timedelta(hours=12)
    tr.enter_queue(state, later, fx)
    assert state.queued_at == later
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
    assert fx.customer == []


def test_set_stage_records_a_change_and_ignores_the_same_stage() -> None:
    state = new_case()
    fx = Effects()
    tr.set_stage(state, Stage.CONTACTO, fx, "ana")
    tr.set_stage(state, Stage.CONTACTO, fx, "luis")
    assert state.stage is Stage.CONTACTO
    assert fx.events == [
        Event(EventType.STAGE_CHANGED, "ana", {"old": "registro", "new": "contacto"})
    ]


def test_a_reaching_phone_call_is_the_first_response_and_moves_to_phone_resolution() -> None:
    state = registered()
    at = NOW + timedelta(minutes=10)
    fx = contact(state, at, note="Llamó desde el móvil")
    attempt = {
        "attempt_id": "att-1",
        "channel": "phone",
        "outcome": "reached",
        "agent": "ana",
        "note": "Llamó desde el móvil",
        "at": "2026-11-25T10:10:00Z",
    }
    assert fx.events == [
        Event(EventType.CONTACT_LOGGED, "ana", {"attempt": attempt}),
        Event(EventType.STAGE_CHANGED, "ana", {"old": "registro", "new": "contacto"}),
        Event(EventType.STAGE_CHANGED, "ana", {"old": "contacto", "new": "resolucion_telefonica"}),
        Event(
            EventType.FIRST_RESPONSE,
            "ana",
            {
                "responded_at": "2026-11-25T10:10:00+00:00",
                "sla_state": "met",
                "response_due": "2026-11-25T12:00:00+01:00",
            },
        ),
    ]
    assert fx.notices == []
    assert fx.customer == []
    assert state.stage is Stage.RESOLUCION_TELEFONICA
    assert state.sla.state is SlaState.MET
    assert state.sla.responded_at == at
    assert [c.model_dump(mode="json") for c in state.contacts] == [attempt]


def test_an_email_is_a_first_response_without_a_phone_stage() -> None:
    state = registered()
    fx = emailed(state)
    assert types(fx) == ["contact_logged", "stage_changed", "first_response"]
    assert fx.events[0].data["attempt"]["note"] is None
    assert state.stage is Stage.CONTACTO
    assert state.sla.state is SlaState.MET


@pytest.mark.parametrize("outcome", [ContactOutcome.NO_ANSWER, ContactOutcome.VOICEMAIL])
def test_a_call_that_does_not_reach_the_customer_is_no_response(outcome: ContactOutcome) -> None:
    state = registered()
    fx = contact(state, outcome=outcome)
    assert types(fx) == ["contact_logged", "stage_changed"]
    assert state.stage is Stage.CONTACTO
    assert state.sla.state is SlaState.PENDING
    assert state.sla.responded_at is None
    assert not state.customer_reached


def test_only_the_first_reaching_contact_is_the_response() -> None:
    state = registered()
    emailed(state, NOW + timedelta(minutes=5))
    fx = contact(state, NOW + timedelta(minutes=20), attempt_id="att-2")
    # A phone call from contacto moves to phone resolution, but is not a new response.
    assert types(fx) == ["contact_logged", "stage_changed"]
    assert state.sla.responded_at == NOW + timedelta(minutes=5)
    again = contact(state, NOW + timedelta(minutes=30), attempt_id="att-3")
    assert types(again) == ["contact_logged"]
    assert [c.attempt_id for c in state.contacts] == ["att-1", "att-2", "att-3"]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (DUE - SECOND, SlaState.MET),
        (DUE, SlaState.MET),  # exactly at response_due is on time
        (DUE + SECOND, SlaState.BREACHED),
    ],
)
def test_first_response_around_the_deadline(at: datetime, expected: SlaState) -> None:
    # The answer is recorded before the breach timer fires (same workflow task).
    state = registered()
    assert state.sla.commitment.response_due == DUE
    fx = emailed(state, at)
    assert state.sla.state is expected
    assert fx.events[-1].data["sla_state"] == expected.value
    assert state.sla.breached_at is None


def test_a_response_without_commitment_stays_not_committed() -> None:
    state = registered(Plan.BASICO, Severity.C)
    fx = emailed(state, NOW + timedelta(days=3))
    assert state.sla.state is SlaState.NOT_COMMITTED
    assert fx.events[-1] == Event(
        EventType.FIRST_RESPONSE,
        "ana",
        {
            "responded_at": "2026-11-28T10:00:00+00:00",
            "sla_state": "not_committed",
            "response_due": None,
        },
    )


def test_a_response_after_the_breach_keeps_it_breached() -> None:
    state = registered()
    fire_due(state, DUE)
    breached_at = state.sla.breached_at
    fx = emailed(state, DUE + timedelta(minutes=1))
    assert state.sla.state is SlaState.BREACHED
    assert state.sla.breached_at == breached_at == DUE
    assert state.sla.responded_at == DUE + timedelta(minutes=1)
    assert fx.events[-1].data["sla_state"] == "breached"


def test_resolve_sorts_methods_and_opens_the_reopen_window() -> None:
    state = registered()
    contact(state)
    at = NOW + timedelta(hours=2)
    methods = (ResolutionMethod.REMOTE, ResolutionMethod.PHONE, ResolutionMethod.PHONE)
    fx = resolve(state, at, methods)
    assert fx.events == [
        Event(
            EventType.CASE_RESOLVED,
            "ana",
            {
                "methods": ["phone", "remote"],
                "summary": "Reiniciado el servicio SMTP",
                "reopen_until": "2026-11-26T12:00:00+00:00",
            },
        ),
        Event(EventType.STAGE_CHANGED, "ana", {"old": "resolucion_telefonica", "new": "resuelto"}),
    ]
    assert fx.notices == []
    assert fx.customer == [CustomerMessage.RESOLUTION]
    assert state.resolved_at == at
    assert state.reopen_until == at + timedelta(days=1)
    assert [r.model_dump(mode="json") for r in state.resolutions] == [
        {
            "methods": ["phone", "remote"],
            "summary": "Reiniciado el servicio SMTP",
            "agent": "ana",
            "at": "2026-11-25T12:00:00Z",
        }
    ]


@pytest.mark.parametrize("automatic", [True, False])
def test_close_ends_the_reopen_window(automatic: bool) -> None:
    state = resolved()
    at = NOW + timedelta(hours=3)
    actor = SYSTEM if automatic else "ana"
    fx = tr.close(state, actor, at, automatic)
    assert fx.events == [
        Event(EventType.CASE_CLOSED, actor, {"automatic": automatic}),
        Event(EventType.STAGE_CHANGED, actor, {"old": "resuelto", "new": "cerrado"}),
    ]
    assert fx.notices == []
    assert fx.customer == []
    assert state.closed_at == at
    assert state.reopen_until is None
    assert state.resolved_at == NOW
    assert state.stage.is_terminal


def test_reopen_goes_back_to_contact_and_tells_the_agents() -> None:
    state = resolved()
    fx = tr.reopen(state, "luis", "El cliente vuelve a no poder enviar")
    assert fx.events == [
        Event(EventType.CASE_REOPENED, "luis", {"reason": "El cliente vuelve a no poder enviar"}),
        Event(EventType.STAGE_CHANGED, "luis", {"old": "resuelto", "new": "contacto"}),
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.CASE_REOPENED,
            "Caso CASE-000123 reabierto: El cliente vuelve a no poder enviar",
        )
    ]
    assert fx.customer == []
    assert state.resolved_at is None
    assert state.reopen_until is None
    assert len(state.resolutions) == 1


def test_cancel_records_who_when_and_why() -> None:
    state = registered()
    at = NOW + timedelta(minutes=3)
    fx = tr.cancel(state, "ana", "Duplicado de CASE-000122", at)
    assert fx.events == [
        Event(EventType.CASE_CANCELLED, "ana", {"reason": "Duplicado de CASE-000122"}),
        Event(EventType.STAGE_CHANGED, "ana", {"old": "registro", "new": "cancelado"}),
    ]
    assert fx.notices == []
    assert fx.customer == []
    assert state.cancelled_at == at
    assert state.cancel_reason == "Duplicado de CASE-000122"
    assert state.stage.is_terminal


def test_a_customer_message_that_failed_is_told_to_the_agents() -> None:
    state = registered()
    fx = tr.message_failed(state, "Acuse de recibo", "buzón inexistente", to_customer=True)
    assert fx.events == [
        Event(
            EventType.MESSAGE_UNDELIVERABLE,
            SYSTEM,
            {"message": "Acuse de recibo", "reason": "buzón inexistente"},
        )
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.MESSAGE_UNDELIVERABLE,
            f"Caso {CASE_ID}: no se pudo entregar al cliente «Acuse de recibo» "
            "(buzón inexistente). Contacte por teléfono.",
        )
    ]
    assert fx.customer == []


def test_a_team_notice_that_failed_is_only_recorded() -> None:
    state = registered()
    fx = tr.message_failed(state, "Aviso de SLA", "SMTP 550", to_customer=False)
    assert fx.events == [
        Event(
            EventType.MESSAGE_UNDELIVERABLE,
            SYSTEM,
            {"message": "Aviso de SLA", "reason": "SMTP 550"},
        )
    ]
    assert fx.notices == []


def test_a_rejected_projection_is_recorded_and_told_to_the_agents() -> None:
    state = registered()
    fx = tr.projection_rejected(state, ["contact_logged", "first_response"], "jsonb: NUL")
    assert fx.events == [
        Event(
            EventType.PROJECTION_REJECTED,
            SYSTEM,
            {"event_types": ["contact_logged", "first_response"], "reason": "jsonb: NUL"},
        )
    ]
    assert fx.notices == [
        Notice(
            "agents",
            EventType.PROJECTION_REJECTED,
            "Caso CASE-000123: la base de datos rechazó parte del historial "
            "(contact_logged, first_response): jsonb: NUL. El caso sigue en Temporal.",
        )
    ]
    assert fx.customer == []
