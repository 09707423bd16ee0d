"""/cases/{id}/history: a case's audit trail, readable by people.

The same log as /events (PostgreSQL's `case_events`, in order), each entry saying who,
what (also in Spanish), when and, for a change, the before and after; with the link to
the case's history in the Temporal UI. Every instant is UTC, written with `Z`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.deps import ServicesDep, SettingsDep, StoreDep, TeamReader
from api.errors import CaseNotFound
from api.responses import READ_CASE, errors
from api.schemas import CommitmentOut, HistoryChange, HistoryEntry, HistoryOut
from api.schemas import HistorySide as Side
from api.workflow_gateway import current_case
from core.labels import STAGE_LABELS
from core.store import StoredEvent
from workflows.effects import EventType as E

CaseId = Annotated[str, Path(pattern=r"^CASE-\d{6,}$", examples=["CASE-000123"])]

router = APIRouter(tags=["cases"])

LABELS: dict[str, str] = {
    E.CASE_REGISTERED: "Caso registrado",
    E.CASE_QUEUED: "Caso en la cola de los agentes",
    E.STAGE_CHANGED: "Cambio de etapa",
    E.CONTACT_LOGGED: "Contacto con el cliente",
    E.FIRST_RESPONSE: "Respuesta inicial",
    E.SLA_WARNING: "Aviso: la respuesta inicial vence pronto",
    E.SLA_BREACHED: "Incumplido el tiempo de respuesta inicial",
    E.SEVERITY_CHANGED: "Cambio de gravedad",
    E.PLAN_CHANGED: "Cambio de plan",
    E.REMOTE_ACCESS_REQUESTED: "Acceso remoto solicitado al cliente",
    E.REMOTE_ACCESS_AUTHORIZED: "El cliente autorizó el acceso remoto",
    E.REMOTE_ACCESS_REJECTED: "El cliente rechazó el acceso remoto",
    E.REMOTE_ACCESS_REVOKED: "El cliente revocó el acceso remoto",
    E.REMOTE_ACCESS_EXPIRED: "La solicitud de acceso remoto caducó",
    E.REMOTE_ACCESS_ENDED: "Terminó el plazo del acceso remoto",
    E.REMOTE_ACCESS_SUPERSEDED: "Solicitud de acceso remoto anulada",
    E.REMOTE_SESSION_STARTED: "Sesión remota iniciada",
    E.REMOTE_SESSION_ENDED: "Sesión remota terminada",
    E.CASE_RESOLVED: "Caso resuelto",
    E.CASE_REOPENED: "Caso reabierto",
    E.CASE_CLOSED: "Caso cerrado",
    E.CASE_CANCELLED: "Caso cancelado",
    E.MESSAGE_UNDELIVERABLE: "Mensaje no entregado",
    E.PROJECTION_REJECTED: "La base de datos rechazó parte del historial",
}
_CONTACTS = {
    ("phone", "reached"): "llamada: cliente localizado",
    ("phone", "no_answer"): "llamada sin respuesta",
    ("phone", "voicemail"): "llamada: mensaje en el buzón de voz",
    ("email", "sent"): "correo electrónico enviado",
}
_SLA_STATES = {
    "met": "cumplido",
    "breached": "incumplido",
    "pending": "pendiente",
    "not_committed": "sin compromiso",
}
# An instant as the workflow writes one into an event (isoformat, any offset).
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def in_utc(value: Any) -> Any:
    """The event's data with every instant moved to UTC, written as the API writes them."""
    if isinstance(value, dict):
        return {k: in_utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [in_utc(v) for v in value]
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:  # shaped like an instant, but not one (a customer's text)
            return value
        return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _commitment(raw: Any) -> CommitmentOut | None:
    return CommitmentOut.model_validate(raw) if isinstance(raw, dict) else None


def _change(e: StoredEvent) -> HistoryChange | None:
    d = e.data
    if e.type == E.STAGE_CHANGED:
        return HistoryChange(before=Side(stage=d.get("old")), after=Side(stage=d.get("new")))
    if e.type in (E.SEVERITY_CHANGED, E.PLAN_CHANGED):
        old, new = d.get("old", {}), d.get("new", {})
        return HistoryChange(
            before=Side(
                plan=old.get("plan"),
                severity=old.get("severity"),
                commitment=_commitment(d.get("old_commitment")),
            ),
            after=Side(
                plan=new.get("plan"),
                severity=new.get("severity"),
                commitment=_commitment(d.get("new_commitment")),
            ),
        )
    return None


def _summary(e: StoredEvent, change: HistoryChange | None) -> str:
    """One sentence in Spanish; the label alone for entries without more to say."""
    label, d = LABELS.get(e.type, e.type), e.data
    if e.type == E.STAGE_CHANGED and change is not None:
        old, new = change.before.stage, change.after.stage
        return f"Etapa: {STAGE_LABELS.get(old or '', old)} → {STAGE_LABELS.get(new or '', new)}"
    if e.type == E.SEVERITY_CHANGED and change is not None:
        return f"Gravedad: {change.before.severity} → {change.after.severity}. {d.get('reason')}"
    if e.type == E.PLAN_CHANGED and change is not None:
        return f"Plan: {change.before.plan} → {change.after.plan}. {d.get('reason')}"
    if e.type == E.CASE_REGISTERED:
        return f"{label}: plan {d.get('plan')}, gravedad {d.get('severity')}"
    if e.type == E.CONTACT_LOGGED:
        attempt = d.get("attempt", {})
        how = _CONTACTS.get((attempt.get("channel"), attempt.get("outcome")), "contacto")
        return f"{label}: {how}"
    if e.type == E.FIRST_RESPONSE:
        return f"{label}: {_SLA_STATES.get(d.get('sla_state', ''), d.get('sla_state'))}"
    if e.type in (E.CASE_REOPENED, E.CASE_CANCELLED) and d.get("reason"):
        return f"{label}: {d['reason']}"
    if e.type == E.CASE_CLOSED and d.get("automatic"):
        return f"{label} automáticamente al terminar el plazo de reapertura"
    return label


def entry(e: StoredEvent) -> HistoryEntry:
    """An event as people read it: Spanish label and sentence, before and after for a change.

    Instants in `data` are moved to UTC like every other answer's, so clients can compare them.
    """
    change = _change(e)
    return HistoryEntry(
        seq=e.seq,
        revision=e.revision,
        at=e.at,
        actor=e.actor,
        type=e.type,
        label=LABELS.get(e.type, e.type),
        summary=_summary(e, change),
        change=change,
        data=in_utc(e.data),
    )


@router.get("/cases/{case_id}/history", response_model=HistoryOut, responses=errors(*READ_CASE))
async def case_history(
    case_id: CaseId, _: TeamReader, store: StoreDep, settings: SettingsDep, services: ServicesDep
) -> HistoryOut:
    """The audit trail, oldest first. From PostgreSQL's read model, so the last change
    may take a few seconds to appear (a case just opened: no entry yet); the Temporal UI
    link shows the workflow's own."""
    events = await store.events(case_id=case_id)
    if not events and await current_case(services, case_id) is None:
        raise CaseNotFound(case_id)
    return HistoryOut(
        case_id=case_id,
        temporal_ui_url=settings.temporal_case_url(case_id),
        entries=[entry(e) for e in events],
    )
