"""The instants at which a case changes by itself, as one table.

Each `Deadline` says when it is due for a given state and what happens then. The
workflow waits for the earliest `due` and fires what is due; both derive from this
table, so a new deadline is one entry. Pure: no clock (the workflow passes `now`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from workflows.domain import SlaState, Stage
from workflows.effects import SYSTEM, Effects, EventType
from workflows.models import AuthorizationStatus, CaseState
from workflows.transitions import close, end_active_session, enter_queue, set_stage


@dataclass(frozen=True)
class Deadline:
    """Something that happens to a case by itself: `due` says when for a state (None: not
    pending), `fire` applies it. The wait (`pending`) and the firing (`fire_due`) both read
    this one table, so they cannot disagree about when.
    """

    name: str
    label: str  # shown as the timer's summary in the Temporal UI
    due: Callable[[CaseState], datetime | None]
    fire: Callable[[CaseState, datetime, Effects], None]


def _queue_due(state: CaseState) -> datetime | None:
    return state.sla.commitment.attention_from if state.queued_at is None else None


def _warning_due(state: CaseState) -> datetime | None:
    sla, c = state.sla, state.sla.commitment
    if sla.state is not SlaState.PENDING or c.response_due is None or sla.warned_at is not None:
        return None
    return c.warning_at


def _warn(state: CaseState, now: datetime, fx: Effects) -> None:
    c = state.sla.commitment
    assert c.response_due is not None
    assert c.warning_at is not None
    state.sla.warned_at = now
    # Late (the worker was away across both instants), the warning still goes out, but
    # never counts negative minutes: the breach follows in the same pass.
    left = max(0, int((c.response_due - now).total_seconds() // 60))
    fx.event(EventType.SLA_WARNING, SYSTEM, warning_at=c.warning_at, response_due=c.response_due)
    fx.notify(
        "agents",
        EventType.SLA_WARNING,
        f"Caso {state.case_id}: la respuesta inicial vence en {left} min "
        f"({c.response_due.isoformat()}).",
    )


def _breach_due(state: CaseState) -> datetime | None:
    return state.sla.commitment.response_due if state.sla.state is SlaState.PENDING else None


def _breach(state: CaseState, now: datetime, fx: Effects) -> None:
    due = state.sla.commitment.response_due
    assert due is not None
    state.sla.state, state.sla.breached_at = SlaState.BREACHED, now
    fx.event(EventType.SLA_BREACHED, SYSTEM, response_due=due)
    fx.notify(
        "supervisors",
        EventType.SLA_BREACHED,
        f"Caso {state.case_id}: incumplido el tiempo de respuesta inicial "
        f"(vencía {due.isoformat()}).",
    )


def _request_expiry_due(state: CaseState) -> datetime | None:
    auth = state.authorization
    return auth.expires_at if auth and auth.status is AuthorizationStatus.PENDING else None


def _expire_request(state: CaseState, now: datetime, fx: Effects) -> None:
    auth = state.authorization
    assert auth is not None
    auth.status = AuthorizationStatus.EXPIRED
    fx.event(
        EventType.REMOTE_ACCESS_EXPIRED,
        SYSTEM,
        request_id=auth.request_id,
        expires_at=auth.expires_at,
    )
    fx.notify(
        "agents",
        EventType.REMOTE_ACCESS_EXPIRED,
        f"Caso {state.case_id}: la autorización remota caducó sin respuesta del cliente.",
    )
    set_stage(state, Stage.CONTACTO, fx, SYSTEM)


def _access_end_due(state: CaseState) -> datetime | None:
    auth = state.authorization
    return auth.access_until if auth and auth.status is AuthorizationStatus.GRANTED else None


def _end_access(state: CaseState, now: datetime, fx: Effects) -> None:
    auth = state.authorization
    assert auth is not None
    auth.status = AuthorizationStatus.EXPIRED
    end_active_session(state, now, "expired", "La autorización llegó a su fin", fx)
    fx.event(
        EventType.REMOTE_ACCESS_ENDED,
        SYSTEM,
        request_id=auth.request_id,
        access_until=auth.access_until,
    )
    if state.stage is Stage.ACCESO_REMOTO:
        set_stage(state, Stage.CONTACTO, fx, SYSTEM)


def _auto_close_due(state: CaseState) -> datetime | None:
    return state.reopen_until if state.stage is Stage.RESUELTO else None


def _auto_close(state: CaseState, now: datetime, fx: Effects) -> None:
    fx.extend(close(state, SYSTEM, now, automatic=True))


# In firing order: when several are due at once they fire in this order, each seeing
# the state the previous one left (a warning and a breach due together both happen).
DEADLINES = (
    Deadline(
        "queue", "Entrada en la cola de agentes", _queue_due, lambda s, n, fx: enter_queue(s, n, fx)
    ),
    Deadline("warning", "Aviso de SLA (respuesta inicial)", _warning_due, _warn),
    Deadline("breach", "Vencimiento de SLA (respuesta inicial)", _breach_due, _breach),
    Deadline(
        "request_expiry",
        "Caduca la solicitud de autorización remota",
        _request_expiry_due,
        _expire_request,
    ),
    Deadline("access_end", "Fin de la autorización de acceso remoto", _access_end_due, _end_access),
    Deadline(
        "auto_close",
        "Cierre automático tras la ventana de reapertura",
        _auto_close_due,
        _auto_close,
    ),
)


def pending(state: CaseState) -> list[tuple[datetime, str]]:
    """Every instant at which the case will change by itself, earliest first."""
    if state.stage.is_terminal:
        return []
    due = [(at, d.label) for d in DEADLINES if (at := d.due(state)) is not None]
    return sorted(due)


def fire_due(state: CaseState, now: datetime) -> Effects:
    """Apply every deadline whose instant has come (`now >= due`)."""
    fx = Effects()
    for deadline in DEADLINES:
        if state.stage.is_terminal:
            break
        at = deadline.due(state)
        if at is not None and now >= at:
            deadline.fire(state, now, fx)
    return fx
