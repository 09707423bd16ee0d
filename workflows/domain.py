"""Domain vocabulary shared by the workflow, the activities and the API.

Identifiers are English; the values are the seed document's own words, because they
are what agents, customers and ops read in the API, the database and the Temporal UI.
"""

from __future__ import annotations

from enum import StrEnum


class Plan(StrEnum):
    FREE = "free"
    BASICO = "basico"
    ESTANDAR = "estandar"
    PREMIUM = "premium"


class Severity(StrEnum):
    A = "A"  # crítica
    B = "B"  # alta
    C = "C"  # no crítica


class Stage(StrEnum):
    REGISTRO = "registro"
    CONTACTO = "contacto"
    AUTORIZACION_REMOTA = "autorizacion_remota"
    ACCESO_REMOTO = "acceso_remoto"
    RESOLUCION_TELEFONICA = "resolucion_telefonica"
    RESUELTO = "resuelto"
    CERRADO = "cerrado"
    CANCELADO = "cancelado"

    @property
    def is_terminal(self) -> bool:
        return self in (Stage.CERRADO, Stage.CANCELADO)


class Availability(StrEnum):
    ALWAYS = "24/7"
    BUSINESS_HOURS = "business_hours"


class ResponseTarget(StrEnum):
    ONE_HOUR = "1h"
    TWO_HOURS = "2h"
    FOUR_HOURS = "4h"
    NEXT_DAY = "next_day"


class SlaState(StrEnum):
    PENDING = "pending"
    MET = "met"
    BREACHED = "breached"
    NOT_COMMITTED = "not_committed"
