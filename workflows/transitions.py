"""Every change a case can go through, as pure functions.

Each function mutates the `CaseState` it is given and returns the `Effects` the
workflow must carry out (events to persist, team notifications, customer messages).
No I/O and no clock: the workflow passes `now` and fresh ids, so replay stays
deterministic and the rules are testable without a Temporal server.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.domain import Availability, SlaState, Stage
from workflows.effects import SYSTEM, CustomerMessage, Effects, EventType
from workflows.messages import CaseInput
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
    SlaStatus,
)
from workflows.sla import Commitment, SlaPolicy, evaluate


def set_stage(state: CaseState, stage: Stage, fx: Effects, actor: str) -> None:
    """Move the case to `stage`, logging the change; staying put logs nothing.

    Transitions call it without checking where the case is, so the log holds exactly one
    `stage_changed` per real change.
    """
    if state.stage is not stage:
        fx.event(EventType.STAGE_CHANGED, actor, old=state.stage, new=stage)
        state.stage = stage


def initial_sla(commitment: Commitment) -> SlaStatus:
    """The SLA as a case starts it: pending under a commitment, `not_committed` for the seed's
    "sin compromiso" cells, which have no due instant to warn about or breach.
    """
    state = SlaState.PENDING if commitment.committed else SlaState.NOT_COMMITTED
    return SlaStatus(commitment=commitment, state=state)


def initial_state(inp: CaseInput) -> CaseState:
    """The case as intake describes it, before registration, with its commitment."""
    commitment = evaluate(inp.policy, inp.plan, inp.severity.severity, inp.registered_at)
    return CaseState(
        case_id=inp.case_id,
        stage=Stage.REGISTRO,
        plan=inp.plan,
        severity=inp.severity.severity,
        severity_assignment=inp.severity,
        customer=inp.customer,
        summary=inp.summary,
        description=inp.description,
        affected_services=inp.affected_services,
        registered_at=inp.registered_at,
        opened_by=inp.opened_by,
        timings=inp.timings,
        sla=initial_sla(commitment),
    )


def register(state: CaseState) -> Effects:
    """The seed's registro: log the commitment the case opened under, send the acknowledgement.

    A 24/7 case enters the agents' queue at once; a business-hours case waits for its
    `attention_from`, which a deadline (`workflows.deadlines`) fires.
    """
    fx = Effects()
    c = state.sla.commitment
    fx.event(
        EventType.CASE_REGISTERED,
        state.opened_by,
        plan=state.plan,
        severity=state.severity,
        severity_assignment=state.severity_assignment,
        commitment=c,
    )
    if c.availability is Availability.ALWAYS:
        enter_queue(state, state.registered_at, fx)
    fx.mail(CustomerMessage.ACKNOWLEDGEMENT)
    return fx


def enter_queue(state: CaseState, now: datetime, fx: Effects) -> None:
    """Put the case in front of the agents and tell them.

    24/7 cells queue at registration; the seed's "horario comercial" cells queue when business
    hours begin, so a case reported at night waits for the morning instead of alerting anyone.
    """
    state.queued_at = now
    fx.event(EventType.CASE_QUEUED, SYSTEM, attention_from=state.sla.commitment.attention_from)
    fx.notify(
        "agents",
        EventType.CASE_QUEUED,
        f"Caso {state.case_id} (gravedad {state.severity}, plan {state.plan}) en cola: "
        f"{state.summary}",
    )


def log_contact(state: CaseState, cmd: LogContact, now: datetime, attempt_id: str) -> Effects:
    """Apply a logged contact; the stage and SLA rules are described on `LogContact`.

    `attempt_id` is drawn by the workflow (`workflow.uuid4()`): this module has no source of
    randomness, so replay produces the same id.
    """
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
    fx.event(EventType.CONTACT_LOGGED, cmd.actor, attempt=attempt)
    if state.stage is Stage.REGISTRO:
        set_stage(state, Stage.CONTACTO, fx, cmd.actor)
    phone_reached = attempt.channel is ContactChannel.PHONE and attempt.reached_customer
    switch_to_phone = state.stage in (Stage.CONTACTO, Stage.ACCESO_REMOTO)
    if phone_reached and switch_to_phone and state.active_session is None:
        set_stage(state, Stage.RESOLUCION_TELEFONICA, fx, cmd.actor)
    if attempt.reached_customer and state.sla.responded_at is None:
        _record_response(state, now, cmd.actor, fx)
    return fx


def _record_response(state: CaseState, now: datetime, actor: str, fx: Effects) -> None:
    sla = state.sla
    sla.responded_at = now
    due = sla.commitment.response_due
    if sla.state is SlaState.PENDING and due is not None:
        sla.state = SlaState.MET if now <= due else SlaState.BREACHED
    fx.event(
        EventType.FIRST_RESPONSE, actor, responded_at=now, sla_state=sla.state, response_due=due
    )


def request_remote(
    state: CaseState, cmd: RequestRemoteAccess, now: datetime, request_id: str
) -> Effects:
    """Open a remote-access request the customer must answer within `authorization_ttl_seconds`.

    `request_id` comes from the workflow because the customer's link and decision name it:
    replay must reproduce it exactly. An earlier open request is superseded first, so only
    the newest link can ever grant access.
    """
    fx = Effects()
    _supersede_open_authorization(state, cmd.actor, fx)
    auth = RemoteAuthorization(
        request_id=request_id,
        access=cmd.access,
        reason=cmd.reason,
        agent=cmd.actor,
        agent_name=cmd.agent_name,
        requested_at=now,
        expires_at=now + timedelta(seconds=state.timings.authorization_ttl_seconds),
    )
    state.authorizations.append(auth)
    fx.event(
        EventType.REMOTE_ACCESS_REQUESTED,
        cmd.actor,
        request_id=request_id,
        access=cmd.access,
        reason=cmd.reason,
        expires_at=auth.expires_at,
    )
    set_stage(state, Stage.AUTORIZACION_REMOTA, fx, cmd.actor)
    fx.mail(CustomerMessage.AUTHORIZATION_REQUEST)
    return fx


def decide_remote(state: CaseState, cmd: DecideRemoteAccess, now: datetime) -> Effects:
    """Apply the customer's decision on the latest request, keeping it as `Consent` evidence.

    Authorized: access lasts `session_ttl_seconds` and the case moves to acceso_remoto.
    Rejected or revoked: a running session ends and a case in a remote stage returns to
    contacto. The validator has already checked the page's signature and the request's status.
    """
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
            EventType.REMOTE_ACCESS_AUTHORIZED,
            actor,
            request_id=auth.request_id,
            access=auth.access,
            access_until=auth.access_until,
            consent=consent,
        )
        set_stage(state, Stage.ACCESO_REMOTO, fx, actor)
        fx.notify(
            "agents",
            EventType.REMOTE_ACCESS_AUTHORIZED,
            f"Caso {state.case_id}: el cliente autorizó el acceso remoto ({auth.access}).",
        )
        return fx
    if cmd.decision == "rejected":
        auth.status = AuthorizationStatus.REJECTED
        fx.event(
            EventType.REMOTE_ACCESS_REJECTED, actor, request_id=auth.request_id, consent=consent
        )
        fx.notify(
            "agents",
            EventType.REMOTE_ACCESS_REJECTED,
            f"Caso {state.case_id}: el cliente rechazó el acceso remoto.",
        )
    else:
        auth.status = AuthorizationStatus.REVOKED
        fx.event(
            EventType.REMOTE_ACCESS_REVOKED, actor, request_id=auth.request_id, consent=consent
        )
        end_active_session(state, now, "revoked_by_customer", "Revocado por el cliente", fx)
        fx.notify(
            "agents",
            EventType.REMOTE_ACCESS_REVOKED,
            f"Caso {state.case_id}: el cliente revocó la autorización de acceso remoto.",
        )
    # Back to contact only from the remote stages: a case already being solved by phone
    # stays there, as it does when access simply runs out.
    if state.stage in (Stage.AUTORIZACION_REMOTA, Stage.ACCESO_REMOTO):
        set_stage(state, Stage.CONTACTO, fx, actor)
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
        fx.event(EventType.REMOTE_ACCESS_SUPERSEDED, actor, request_id=auth.request_id)


def end_active_session(
    state: CaseState, now: datetime, outcome: str, summary: str, fx: Effects, actor: str = SYSTEM
) -> None:
    """End the running session, if there is one.

    Called on revocation, when access runs out and when an agent ends the session, so no
    session outlives the consent it ran under.
    """
    session = state.active_session
    if session is not None:
        session.ended_at, session.outcome, session.summary = now, outcome, summary
        fx.event(
            EventType.REMOTE_SESSION_ENDED,
            actor,
            session_id=session.session_id,
            outcome=outcome,
            summary=summary,
        )


def start_session(
    state: CaseState, actor: str, now: datetime, session_id: str, agent_name: str | None = None
) -> Effects:
    """Start a session under the granted authorization and mail the customer its link.

    The session expires with the authorization (`access_until`), never later. `session_id`
    comes from the workflow so replay reproduces the link the customer was sent.
    """
    fx = Effects()
    auth = state.authorization
    assert auth is not None
    assert auth.access_until is not None
    session = RemoteSession(
        session_id=session_id,
        request_id=auth.request_id,
        agent=actor,
        agent_name=agent_name,
        started_at=now,
        expires_at=auth.access_until,
    )
    state.sessions.append(session)
    fx.event(
        EventType.REMOTE_SESSION_STARTED,
        actor,
        session_id=session_id,
        request_id=auth.request_id,
        access=auth.access,
        expires_at=session.expires_at,
    )
    fx.mail(CustomerMessage.SESSION_LINK)
    return fx


def end_session(state: CaseState, cmd: EndRemoteSession, now: datetime) -> Effects:
    """An agent's end of the running session, with the outcome and summary they report."""
    fx = Effects()
    assert state.active_session is not None  # validated
    end_active_session(state, now, cmd.outcome, cmd.summary, fx, cmd.actor)
    return fx


def resolve(state: CaseState, cmd: Resolve, now: datetime) -> Effects:
    """Record the resolution, open the reopen window and mail the customer.

    Open remote access is withdrawn, so a link mailed earlier cannot be used on a solved case.
    """
    fx = Effects()
    methods = sorted(set(cmd.methods))
    state.resolutions.append(
        Resolution(methods=methods, summary=cmd.summary, agent=cmd.actor, at=now)
    )
    state.resolved_at = now
    state.reopen_until = now + timedelta(seconds=state.timings.reopen_window_seconds)
    _supersede_open_authorization(state, cmd.actor, fx)
    fx.event(
        EventType.CASE_RESOLVED,
        cmd.actor,
        methods=methods,
        summary=cmd.summary,
        reopen_until=state.reopen_until,
    )
    set_stage(state, Stage.RESUELTO, fx, cmd.actor)
    fx.mail(CustomerMessage.RESOLUTION)
    return fx


def close(state: CaseState, actor: str, now: datetime, automatic: bool) -> Effects:
    """Close the case for good: by an agent, or `automatic` when the reopen window ends."""
    fx = Effects()
    state.closed_at = now
    state.reopen_until = None
    fx.event(EventType.CASE_CLOSED, actor, automatic=automatic)
    set_stage(state, Stage.CERRADO, fx, actor)
    return fx


def reopen(state: CaseState, actor: str, reason: str) -> Effects:
    """Back to contacto with the agents told, since someone must pick the case up again.

    The initial-response SLA keeps what was measured: a reopened case is not a new case.
    """
    fx = Effects()
    state.resolved_at = state.reopen_until = None
    fx.event(EventType.CASE_REOPENED, actor, reason=reason)
    set_stage(state, Stage.CONTACTO, fx, actor)
    fx.notify("agents", EventType.CASE_REOPENED, f"Caso {state.case_id} reabierto: {reason}")
    return fx


def cancel(state: CaseState, actor: str, reason: str, now: datetime) -> Effects:
    """End the case unresolved; open remote access is withdrawn so its link stops working."""
    fx = Effects()
    state.cancelled_at, state.cancel_reason = now, reason
    _supersede_open_authorization(state, actor, fx)
    fx.event(EventType.CASE_CANCELLED, actor, reason=reason)
    set_stage(state, Stage.CANCELADO, fx, actor)
    return fx


def message_failed(state: CaseState, summary: str, reason: str, to_customer: bool) -> Effects:
    """Record a message given up on after its delivery budget, so the log shows what never
    arrived instead of the lane retrying forever.
    """
    fx = Effects()
    fx.event(EventType.MESSAGE_UNDELIVERABLE, SYSTEM, message=summary, reason=reason)
    if to_customer:
        # Agents must know, or the case would wait for an answer that cannot come. Not
        # for a failed team notice: that would only queue another failing one.
        fx.notify(
            "agents",
            EventType.MESSAGE_UNDELIVERABLE,
            f"Caso {state.case_id}: no se pudo entregar al cliente «{summary}» ({reason}). "
            "Contacte por teléfono.",
        )
    return fx


def projection_rejected(state: CaseState, types: list[str], reason: str) -> Effects:
    """PostgreSQL refused some events for good: the case says so instead of retrying."""
    fx = Effects()
    fx.event(EventType.PROJECTION_REJECTED, SYSTEM, event_types=types, reason=reason)
    fx.notify(
        "agents",
        EventType.PROJECTION_REJECTED,
        f"Caso {state.case_id}: la base de datos rechazó parte del historial "
        f"({', '.join(types)}): {reason}. El caso sigue en Temporal.",
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
    kind = EventType.SEVERITY_CHANGED if isinstance(cmd, ChangeSeverity) else EventType.PLAN_CHANGED
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
        enter_queue(state, now, fx)
    return fx
