"""Every change a case can go through, as pure functions.

Each function mutates the `CaseState` it is given and returns the `Effects` the
workflow must carry out (events to persist, team notifications, customer messages).
No I/O and no clock: the workflow passes `now` and fresh ids, so replay stays
deterministic and the rules are testable without a Temporal server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from workflows.domain import Availability, SlaState, Stage
from workflows.models import (
    AuthorizationStatus,
    CaseState,
    ChangePlan,
    ChangeSeverity,
    Consent,
    ContactAttempt,
    ContactChannel,
    DecideRemoteAccess,
    EndRemoteSession,
    LogContact,
    RemoteAuthorization,
    RemoteSession,
    RequestRemoteAccess,
    Resolution,
    Resolve,
    SeverityAssignment,
)
from workflows.sla import SlaPolicy, evaluate

Audience = Literal["agents", "supervisors"]
CustomerMessage = Literal["acknowledgement", "resolution", "authorization_request", "session_link"]


@dataclass
class Effects:
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    notifications: list[tuple[Audience, str, str]] = field(default_factory=list)
    customer: list[CustomerMessage] = field(default_factory=list)

    def event(self, type_: str, actor: str, **data: Any) -> None:
        self.events.append((type_, actor, _jsonable(data)))

    def notify(self, audience: Audience, kind: str, message: str) -> None:
        self.notifications.append((audience, kind, message))

    def __bool__(self) -> bool:
        return bool(self.events or self.notifications or self.customer)


SYSTEM = "sistema"


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "model_dump"):
            out[key] = value.model_dump(mode="json")
        elif isinstance(value, list):
            out[key] = [getattr(v, "value", v) for v in value]
        else:
            out[key] = getattr(value, "value", value)
    return out


def _set_stage(state: CaseState, stage: Stage, fx: Effects, actor: str) -> None:
    if state.stage is not stage:
        fx.event("stage_changed", actor, old=state.stage, new=stage)
        state.stage = stage


def register(state: CaseState) -> Effects:
    fx = Effects()
    c = state.sla.commitment
    fx.event(
        "case_registered",
        state.opened_by,
        plan=state.plan,
        severity=state.severity,
        severity_assignment=state.severity_assignment,
        commitment=c,
    )
    if c.availability is Availability.ALWAYS:
        _enter_queue(state, state.registered_at, fx)
    fx.customer.append("acknowledgement")
    return fx


def _enter_queue(state: CaseState, now: datetime, fx: Effects) -> None:
    state.queued_at = now
    fx.event("case_queued", SYSTEM, attention_from=state.sla.commitment.attention_from)
    fx.notify(
        "agents",
        "case_queued",
        f"Caso {state.case_id} (gravedad {state.severity}, plan {state.plan}) en cola: "
        f"{state.summary}",
    )


def log_contact(state: CaseState, cmd: LogContact, now: datetime, attempt_id: str) -> Effects:
    fx = Effects()
    attempt = ContactAttempt(
        attempt_id=attempt_id,
        channel=cmd.channel,
        outcome=cmd.outcome,
        agent=cmd.actor,
        note=cmd.note,
        at=now,
    )
    state.contacts.append(attempt)
    fx.event("contact_logged", cmd.actor, attempt=attempt)
    if state.stage is Stage.REGISTRO:
        _set_stage(state, Stage.CONTACTO, fx, cmd.actor)
    phone_reached = attempt.channel is ContactChannel.PHONE and attempt.reached_customer
    switch_to_phone = state.stage in (Stage.CONTACTO, Stage.ACCESO_REMOTO)
    if phone_reached and switch_to_phone and state.active_session is None:
        _set_stage(state, Stage.RESOLUCION_TELEFONICA, fx, cmd.actor)
    if attempt.reached_customer and state.sla.responded_at is None:
        _record_response(state, now, cmd.actor, fx)
    return fx


def _record_response(state: CaseState, now: datetime, actor: str, fx: Effects) -> None:
    sla = state.sla
    sla.responded_at = now
    due = sla.commitment.response_due
    if sla.state is SlaState.PENDING and due is not None:
        sla.state = SlaState.MET if now <= due else SlaState.BREACHED
    fx.event("first_response", actor, responded_at=now, sla_state=sla.state, response_due=due)


def request_remote(
    state: CaseState, cmd: RequestRemoteAccess, now: datetime, request_id: str
) -> Effects:
    fx = Effects()
    _supersede_open_authorization(state, cmd.actor, fx)
    auth = RemoteAuthorization(
        request_id=request_id,
        access=cmd.access,
        reason=cmd.reason,
        agent=cmd.actor,
        requested_at=now,
        expires_at=now + timedelta(seconds=state.timings.authorization_ttl_seconds),
    )
    state.authorizations.append(auth)
    fx.event(
        "remote_access_requested",
        cmd.actor,
        request_id=request_id,
        access=cmd.access,
        reason=cmd.reason,
        expires_at=auth.expires_at,
    )
    _set_stage(state, Stage.AUTORIZACION_REMOTA, fx, cmd.actor)
    fx.customer.append("authorization_request")
    return fx


def decide_remote(state: CaseState, cmd: DecideRemoteAccess, now: datetime) -> Effects:
    fx = Effects()
    auth = state.authorization
    assert auth is not None  # the validator checked it
    consent = Consent(
        decision=cmd.decision,
        at=now,
        ip=cmd.ip,
        user_agent=cmd.user_agent,
        text_shown=cmd.text_shown,
    )
    auth.consents.append(consent)
    actor = f"cliente:{state.customer.id}"
    if cmd.decision == "authorized":
        auth.status = AuthorizationStatus.GRANTED
        auth.access_until = now + timedelta(seconds=state.timings.session_ttl_seconds)
        fx.event(
            "remote_access_authorized",
            actor,
            request_id=auth.request_id,
            access=auth.access,
            access_until=auth.access_until,
            consent=consent,
        )
        _set_stage(state, Stage.ACCESO_REMOTO, fx, actor)
        fx.notify(
            "agents",
            "remote_access_authorized",
            f"Caso {state.case_id}: el cliente autorizó el acceso remoto ({auth.access}).",
        )
        return fx
    if cmd.decision == "rejected":
        auth.status = AuthorizationStatus.REJECTED
        fx.event("remote_access_rejected", actor, request_id=auth.request_id, consent=consent)
        fx.notify(
            "agents",
            "remote_access_rejected",
            f"Caso {state.case_id}: el cliente rechazó el acceso remoto.",
        )
    else:
        auth.status = AuthorizationStatus.REVOKED
        fx.event("remote_access_revoked", actor, request_id=auth.request_id, consent=consent)
        _end_active_session(state, now, "revoked_by_customer", "Revocado por el cliente", fx)
        fx.notify(
            "agents",
            "remote_access_revoked",
            f"Caso {state.case_id}: el cliente revocó la autorización de acceso remoto.",
        )
    _set_stage(state, Stage.CONTACTO, fx, actor)
    return fx


def _supersede_open_authorization(state: CaseState, actor: str, fx: Effects) -> None:
    """A new request, a resolution or a cancellation ends whatever access was pending
    or granted, so an old link can never authorize or be used again."""
    auth = state.authorization
    if auth is not None and auth.status in (
        AuthorizationStatus.PENDING,
        AuthorizationStatus.GRANTED,
    ):
        auth.status = AuthorizationStatus.SUPERSEDED
        fx.event("remote_access_superseded", actor, request_id=auth.request_id)


def _end_active_session(
    state: CaseState, now: datetime, outcome: str, summary: str, fx: Effects, actor: str = SYSTEM
) -> None:
    session = state.active_session
    if session is not None:
        session.ended_at, session.outcome, session.summary = now, outcome, summary
        fx.event(
            "remote_session_ended",
            actor,
            session_id=session.session_id,
            outcome=outcome,
            summary=summary,
        )


def start_session(state: CaseState, actor: str, now: datetime, session_id: str) -> Effects:
    fx = Effects()
    auth = state.authorization
    assert auth is not None
    assert auth.access_until is not None
    session = RemoteSession(
        session_id=session_id,
        request_id=auth.request_id,
        agent=actor,
        started_at=now,
        expires_at=auth.access_until,
    )
    state.sessions.append(session)
    fx.event(
        "remote_session_started",
        actor,
        session_id=session_id,
        request_id=auth.request_id,
        access=auth.access,
        expires_at=session.expires_at,
    )
    fx.customer.append("session_link")
    return fx


def end_session(state: CaseState, cmd: EndRemoteSession, now: datetime) -> Effects:
    fx = Effects()
    assert state.active_session is not None  # validated
    _end_active_session(state, now, cmd.outcome, cmd.summary, fx, cmd.actor)
    return fx


def resolve(state: CaseState, cmd: Resolve, now: datetime) -> Effects:
    fx = Effects()
    methods = sorted(set(cmd.methods))
    state.resolutions.append(
        Resolution(methods=methods, summary=cmd.summary, agent=cmd.actor, at=now)
    )
    state.resolved_at = now
    state.reopen_until = now + timedelta(seconds=state.timings.reopen_window_seconds)
    _supersede_open_authorization(state, cmd.actor, fx)
    fx.event(
        "case_resolved",
        cmd.actor,
        methods=methods,
        summary=cmd.summary,
        reopen_until=state.reopen_until,
    )
    _set_stage(state, Stage.RESUELTO, fx, cmd.actor)
    fx.customer.append("resolution")
    return fx


def close(state: CaseState, actor: str, now: datetime, automatic: bool) -> Effects:
    fx = Effects()
    state.closed_at = now
    state.reopen_until = None
    fx.event("case_closed", actor, automatic=automatic)
    _set_stage(state, Stage.CERRADO, fx, actor)
    return fx


def reopen(state: CaseState, actor: str, reason: str) -> Effects:
    fx = Effects()
    state.resolved_at = state.reopen_until = None
    fx.event("case_reopened", actor, reason=reason)
    _set_stage(state, Stage.CONTACTO, fx, actor)
    fx.notify("agents", "case_reopened", f"Caso {state.case_id} reabierto: {reason}")
    return fx


def cancel(state: CaseState, actor: str, reason: str, now: datetime) -> Effects:
    fx = Effects()
    state.cancelled_at, state.cancel_reason = now, reason
    _supersede_open_authorization(state, actor, fx)
    fx.event("case_cancelled", actor, reason=reason)
    _set_stage(state, Stage.CANCELADO, fx, actor)
    return fx


def message_failed(state: CaseState, summary: str, reason: str, to_customer: bool) -> Effects:
    fx = Effects()
    fx.event("message_undeliverable", SYSTEM, message=summary, reason=reason)
    if to_customer:
        # Agents must know, or the case would wait for an answer that cannot come. Not
        # for a failed team notice: that would only queue another failing one.
        fx.notify(
            "agents",
            "message_undeliverable",
            f"Caso {state.case_id}: no se pudo entregar al cliente «{summary}» ({reason}). "
            "Contacte por teléfono.",
        )
    return fx


def reclassify(
    state: CaseState, policy: SlaPolicy, cmd: ChangeSeverity | ChangePlan, now: datetime
) -> Effects:
    """Recompute the commitment from `registered_at` under the case's pinned policy."""
    fx = Effects()
    old = state.sla.commitment
    old_values = {"plan": state.plan, "severity": state.severity}
    if isinstance(cmd, ChangeSeverity):
        state.severity = cmd.severity
        state.severity_assignment = SeverityAssignment(
            severity=cmd.severity, reason=cmd.reason, rule="reclassified"
        )
    else:
        state.plan = cmd.plan
    new = evaluate(policy, state.plan, state.severity, state.registered_at)
    sla = state.sla
    sla.commitment = new
    if sla.responded_at is None and sla.state is not SlaState.BREACHED:
        sla.state = SlaState.PENDING if new.committed else SlaState.NOT_COMMITTED
        # A new, later warning instant deserves its own warning.
        if new.warning_at is not None and new.warning_at > now:
            sla.warned_at = None
    kind = "severity_changed" if isinstance(cmd, ChangeSeverity) else "plan_changed"
    fx.event(
        kind,
        cmd.actor,
        reason=cmd.reason,
        old=old_values,
        new={"plan": state.plan, "severity": state.severity},
        old_commitment=old,
        new_commitment=new,
        sla_state=sla.state,
    )
    if state.queued_at is None and new.availability is Availability.ALWAYS:
        _enter_queue(state, now, fx)
    return fx


# --- Deadlines the workflow waits for ---


def deadlines(state: CaseState) -> list[tuple[datetime, str]]:
    """Every instant at which the case changes by itself, with a label for the UI."""
    out: list[tuple[datetime, str]] = []
    if state.stage.is_terminal:
        return out
    sla, c = state.sla, state.sla.commitment
    if state.queued_at is None:
        out.append((c.attention_from, "Entrada en la cola de agentes"))
    if sla.state is SlaState.PENDING and c.response_due is not None:
        if sla.warned_at is None and c.warning_at is not None:
            out.append((c.warning_at, "Aviso de SLA (respuesta inicial)"))
        out.append((c.response_due, "Vencimiento de SLA (respuesta inicial)"))
    auth = state.authorization
    if auth is not None and auth.status is AuthorizationStatus.PENDING:
        out.append((auth.expires_at, "Caduca la solicitud de autorización remota"))
    if auth is not None and auth.status is AuthorizationStatus.GRANTED and auth.access_until:
        out.append((auth.access_until, "Fin de la autorización de acceso remoto"))
    if state.stage is Stage.RESUELTO and state.reopen_until is not None:
        out.append((state.reopen_until, "Cierre automático tras la ventana de reapertura"))
    return sorted(out)


def fire_due(state: CaseState, now: datetime) -> Effects:
    fx = Effects()
    sla, c = state.sla, state.sla.commitment
    if state.queued_at is None and now >= c.attention_from:
        _enter_queue(state, now, fx)
    if sla.state is SlaState.PENDING and c.response_due is not None:
        if sla.warned_at is None and c.warning_at is not None and now >= c.warning_at:
            sla.warned_at = now
            left = int((c.response_due - now).total_seconds() // 60)
            fx.event("sla_warning", SYSTEM, warning_at=c.warning_at, response_due=c.response_due)
            fx.notify(
                "agents",
                "sla_warning",
                f"Caso {state.case_id}: la respuesta inicial vence en {left} min "
                f"({c.response_due.isoformat()}).",
            )
        if now >= c.response_due:
            sla.state, sla.breached_at = SlaState.BREACHED, now
            fx.event("sla_breached", SYSTEM, response_due=c.response_due)
            fx.notify(
                "supervisors",
                "sla_breached",
                f"Caso {state.case_id}: incumplido el tiempo de respuesta inicial "
                f"(vencía {c.response_due.isoformat()}).",
            )
    auth = state.authorization
    if auth is not None and auth.status is AuthorizationStatus.PENDING and now >= auth.expires_at:
        auth.status = AuthorizationStatus.EXPIRED
        fx.event(
            "remote_access_expired", SYSTEM, request_id=auth.request_id, expires_at=auth.expires_at
        )
        fx.notify(
            "agents",
            "remote_access_expired",
            f"Caso {state.case_id}: la autorización remota caducó sin respuesta del cliente.",
        )
        _set_stage(state, Stage.CONTACTO, fx, SYSTEM)
    if (
        auth is not None
        and auth.status is AuthorizationStatus.GRANTED
        and auth.access_until is not None
        and now >= auth.access_until
    ):
        auth.status = AuthorizationStatus.EXPIRED
        _end_active_session(state, now, "expired", "La autorización llegó a su fin", fx)
        fx.event(
            "remote_access_ended",
            SYSTEM,
            request_id=auth.request_id,
            access_until=auth.access_until,
        )
        if state.stage is Stage.ACCESO_REMOTO:
            _set_stage(state, Stage.CONTACTO, fx, SYSTEM)
    if (
        state.stage is Stage.RESUELTO
        and state.reopen_until is not None
        and now >= state.reopen_until
    ):
        auto = close(state, SYSTEM, now, automatic=True)
        fx.events += auto.events
    return fx
