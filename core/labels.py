"""The Spanish words people read for the case's values, defined once.

Customers read them in mails (`core.mail`'s template filters) and on their pages
(`api.customer_view`, `api/templates/`); supervisors in the report mail; agents in the
case history (`api.routers.history`). A value has one label everywhere, and every
member of the workflows' enums has one (tests/test_labels.py).
"""

from __future__ import annotations

from workflows.domain import Availability, Plan, Severity, Stage
from workflows.models import RemoteAccessKind, ResolutionMethod

PLAN_LABELS: dict[str, str] = {
    Plan.FREE: "Administración Free",
    Plan.BASICO: "Administración Básico",
    Plan.ESTANDAR: "Administración Estándar",
    Plan.PREMIUM: "Administración Premium",
}
SEVERITY_LABELS: dict[str, str] = {
    Severity.A: "A (crítica)",
    Severity.B: "B (alta)",
    Severity.C: "C (no crítica)",
}
STAGE_LABELS: dict[str, str] = {
    Stage.REGISTRO: "registro",
    Stage.CONTACTO: "contacto",
    Stage.AUTORIZACION_REMOTA: "autorización remota",
    Stage.ACCESO_REMOTO: "acceso remoto",
    Stage.RESOLUCION_TELEFONICA: "resolución telefónica",
    Stage.RESUELTO: "resuelto",
    Stage.CERRADO: "cerrado",
    Stage.CANCELADO: "cancelado",
}
# The kind of remote access the customer consents to: the consent text, the request
# mail, the confirmation and the authorization page all say it with these words.
ACCESS_LABELS: dict[str, str] = {
    RemoteAccessKind.VIEW: "solo visualización",
    RemoteAccessKind.CONTROL: "control remoto",
}
METHOD_LABELS: dict[str, str] = {
    ResolutionMethod.PHONE: "asistencia telefónica",
    ResolutionMethod.REMOTE: "control remoto",
}
AVAILABILITY_LABELS: dict[str, str] = {
    Availability.ALWAYS: "24/7",
    Availability.BUSINESS_HOURS: "Horario comercial",
}
TARGET_LABELS = {"1h": "1 h", "2h": "2 h", "4h": "4 h", "next_day": "Día siguiente"}
SESSION_OUTCOMES = {
    "completed": "el técnico terminó el trabajo",
    "incomplete": "el técnico la terminó sin completar el trabajo",
    "failed": "no se pudo completar por un problema técnico",
    "expired": "llegó al final del tiempo que usted autorizó",
    "revoked_by_customer": "usted revocó la autorización",
}
BUSINESS_HOURS = "horario comercial (lunes a viernes, 9:00–18:00)"

DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip
# IANA names are English ("Canary"); customers read the Spanish place name.
ZONE_NAMES = {"Europe/Madrid": "Madrid", "Atlantic/Canary": "Canarias", "Africa/Ceuta": "Ceuta"}


def access_label(access: str) -> str:
    """The words for a remote access kind; an unknown kind is an error, never shown."""
    if access not in ACCESS_LABELS:
        raise ValueError(f"unknown remote access kind {access!r}")
    return ACCESS_LABELS[access]
