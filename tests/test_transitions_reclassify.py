"""Reclassification in workflows/transitions.py without a server: a new severity or plan
recomputes the commitment from registration, a breach stays final, the warning is
re-armed for a later instant, and a case raised into a 24/7 cell enters the queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.pure_cases import (
    NIGHT,
    NOW,
    POLICY,
    SECOND,
    emailed,
    registered,
    types,
)
from workflows import transitions as tr
from workflows.deadlines import fire_due, pending
from workflows.domain import Plan, Severity, SlaState
from workflows.effects import SYSTEM, Effects, Event, EventType, Notice
from workflows.models import CaseState, ChangePlan, ChangeSeverity

MINUTE = timedelta(minutes=1)
WARNING = "Aviso de SLA (respuesta inicial)"
BREACH = "Vencimiento de SLA (respuesta inicial)"


def severity(state: CaseState, to: Severity, at: datetime) -> Effects:
    return tr.reclassify(
        state, POLICY, ChangeSeverity(actor="ana", severity=to, reason="Más grave"), at
    )


def plan(state: CaseState, to: Plan, at: datetime) -> Effects:
    return tr.reclassify(state, POLICY, ChangePlan(actor="sara", plan=to, reason="Contrato"), at)


def commitment(availability: str, target: str | None, due: str | None, warning: str | None,
               attention: str) -> dict[str, object]:  # fmt: skip
    return {
        "policy_version": "2026-11-01",
        "availability": availability,
        "target": target,
        "committed": due is not None,
        "response_due": due,
        "warning_at": warning,
        "attention_from": attention,
    }


PREMIUM_A = commitment(
    "24/7", "1h", "2026-11-25T12:00:00+01:00", "2026-11-25T11:45:00+01:00",
    "2026-11-25T11:00:00+01:00",
)  # fmt: skip
PREMIUM_C = commitment(
    "24/7", "4h", "2026-11-25T15:00:00+01:00", "2026-11-25T14:00:00+01:00",
    "2026-11-25T11:00:00+01:00",
)  # fmt: skip


def test_a_new_severity_recomputes_the_commitment_from_registration() -> None:
    state = registered()
    fx = severity(state, Severity.C, NOW + 10 * MINUTE)
    assert fx.events == [
        Event(
            EventType.SEVERITY_CHANGED,
            "ana",
            {
                "reason": "Más grave",
                "old": {"plan": "premium", "severity": "A"},
                "new": {"plan": "premium", "severity": "C"},
                "old_commitment": PREMIUM_A,
                "new_commitment": PREMIUM_C,
                "sla_state": "pending",
            },
        )
    ]
    assert fx.notices == []  # already queued: not queued again
    assert fx.customer == []
    assert state.severity is Severity.C
    assert state.severity_assignment.model_dump(mode="json") == {
        "severity": "C",
        "reason": "Más grave",
        "rule": "reclassified",
        "impact": None,
    }
    assert state.sla.commitment.model_dump(mode="json") == PREMIUM_C
    assert state.queued_at == NOW


def test_a_new_plan_keeps_the_severity_assignment() -> None:
    state = registered(Plan.PREMIUM, Severity.C)
    assignment = state.severity_assignment
    fx = plan(state, Plan.ESTANDAR, NOW + MINUTE)
    assert types(fx) == ["plan_changed"]
    event = fx.events[0]
    assert event.actor == "sara"
    assert event.data["reason"] == "Contrato"
    assert event.data["old"] == {"plan": "premium", "severity": "C"}
    assert event.data["new"] == {"plan": "estandar", "severity": "C"}
    assert state.plan is Plan.ESTANDAR
    assert state.severity_assignment == assignment


def test_a_breach_is_final() -> None:
    state = registered()
    fire_due(state, NOW + timedelta(hours=1))
    assert state.sla.state is SlaState.BREACHED
    fx = severity(state, Severity.C, NOW + timedelta(hours=1, minutes=5))
    assert fx.events[0].data["sla_state"] == "breached"
    assert state.sla.commitment.response_due == NOW + timedelta(hours=4)
    assert [label for _, label in pending(state)] == []
    emailed(state, NOW + timedelta(hours=2))  # on time for the new 4 h target
    assert state.sla.state is SlaState.BREACHED
    assert not fire_due(state, NOW + timedelta(hours=5))


def test_a_met_response_stays_met_under_an_earlier_deadline() -> None:
    state = registered(Plan.PREMIUM, Severity.C)
    emailed(state, NOW + timedelta(hours=3))
    fx = severity(state, Severity.A, NOW + timedelta(hours=3, minutes=1))
    assert state.sla.state is SlaState.MET
    assert fx.events[0].data["sla_state"] == "met"


def test_into_a_cell_without_commitment_there_is_nothing_to_breach() -> None:
    state = registered(Plan.PREMIUM, Severity.C)
    fx = plan(state, Plan.BASICO, NOW + MINUTE)
    assert fx.events[0].data["sla_state"] == "not_committed"
    assert fx.events[0].data["new_commitment"] == commitment(
        "24/7", None, None, None, "2026-11-25T11:00:00+01:00"
    )
    assert state.sla.state is SlaState.NOT_COMMITTED
    assert pending(state) == []
    assert not fire_due(state, NOW + timedelta(hours=5))
    assert state.sla.breached_at is None


def test_from_no_commitment_into_a_committed_cell_the_clock_runs_from_registration() -> None:
    state = registered(Plan.BASICO, Severity.C)
    assert state.sla.state.value == "not_committed"
    plan(state, Plan.PREMIUM, NOW + timedelta(hours=2))
    assert state.sla.state is SlaState.PENDING
    assert pending(state) == [
        (NOW + timedelta(hours=3), WARNING),
        (NOW + timedelta(hours=4), BREACH),
    ]


def test_the_warning_is_rearmed_for_a_later_instant() -> None:
    state = registered()
    fire_due(state, NOW + 45 * MINUTE)
    assert state.sla.warned_at == NOW + 45 * MINUTE
    severity(state, Severity.C, NOW + 50 * MINUTE)
    assert state.sla.warned_at is None
    assert pending(state)[0] == (NOW + timedelta(hours=3), WARNING)
    fx = fire_due(state, NOW + timedelta(hours=3))
    assert types(fx) == ["sla_warning"]
    assert fx.notices[0].message == (
        "Caso CASE-000123: la respuesta inicial vence en 60 min (2026-11-25T15:00:00+01:00)."
    )


def test_the_warning_is_not_rearmed_when_the_new_instant_is_now_or_past() -> None:
    two_hours_warning = NOW + 90 * MINUTE  # premium/B: 2 h, warned at 75 %
    at_it = registered()
    fire_due(at_it, NOW + 45 * MINUTE)
    severity(at_it, Severity.B, two_hours_warning)
    assert at_it.sla.warned_at == NOW + 45 * MINUTE
    just_before = registered()
    fire_due(just_before, NOW + 45 * MINUTE)
    severity(just_before, Severity.B, two_hours_warning - SECOND)
    assert just_before.sla.warned_at is None


def test_a_warned_case_moved_out_of_commitment_keeps_its_warning() -> None:
    state = registered()
    fire_due(state, NOW + 45 * MINUTE)
    plan(state, Plan.BASICO, NOW + 50 * MINUTE)  # basico/A is still 1 h
    assert state.sla.warned_at == NOW + 45 * MINUTE
    severity(state, Severity.C, NOW + 55 * MINUTE)  # basico/C: no commitment
    assert state.sla.warned_at == NOW + 45 * MINUTE
    assert state.sla.state is SlaState.NOT_COMMITTED


def test_a_business_hours_case_raised_to_a_24_7_cell_at_night_is_queued_at_once() -> None:
    state = registered(Plan.FREE, Severity.B, NIGHT)
    assert state.queued_at is None
    at = NIGHT + 30 * MINUTE
    fx = severity(state, Severity.A, at)
    assert types(fx) == ["severity_changed", "case_queued"]
    assert fx.events[1] == Event(
        EventType.CASE_QUEUED, SYSTEM, {"attention_from": "2026-11-25T22:00:00+01:00"}
    )
    assert fx.notices == [
        Notice(
            "agents",
            EventType.CASE_QUEUED,
            "Caso CASE-000123 (gravedad A, plan free) en cola: El correo no funciona",
        )
    ]
    assert state.queued_at == at
    assert state.sla.state is SlaState.PENDING
    assert pending(state) == [(NIGHT + 45 * MINUTE, WARNING), (NIGHT + 60 * MINUTE, BREACH)]
    assert not fire_due(state, at)


def test_a_new_plan_can_queue_too() -> None:
    state = registered(Plan.FREE, Severity.C, NIGHT)
    fx = plan(state, Plan.PREMIUM, NIGHT + MINUTE)
    assert types(fx) == ["plan_changed", "case_queued"]
    assert state.queued_at == NIGHT + MINUTE


def test_a_business_hours_case_moved_within_business_hours_waits_for_the_morning() -> None:
    state = registered(Plan.FREE, Severity.B, NIGHT)
    fx = severity(state, Severity.C, NIGHT + MINUTE)
    assert types(fx) == ["severity_changed"]
    assert state.queued_at is None
    morning = datetime.fromisoformat("2026-11-26T09:00:00+01:00")
    assert pending(state) == [(morning, "Entrada en la cola de agentes")]


def test_a_queued_case_moved_into_business_hours_is_not_queued_again() -> None:
    state = registered(Plan.PREMIUM, Severity.B, NIGHT)
    fx = plan(state, Plan.FREE, NIGHT + MINUTE)
    assert types(fx) == ["plan_changed"]
    assert state.queued_at == NIGHT
    assert pending(state) == []
