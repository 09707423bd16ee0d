"""Domain vocabulary shared by the workflow, the activities and the API.

Identifiers are English; the values are the seed document's own words, because they
are what agents, customers and ops read in the API, the database and the Temporal UI.
"""

from __future__ import annotations

from enum import StrEnum


class Plan(StrEnum):
    """The customer's subscription (the seed's "Administración Free/Básico/Estándar/Premium");
    with the severity it selects the initial-response commitment.
    """

    FREE = "free"
    BASICO = "basico"
    ESTANDAR = "estandar"
    PREMIUM = "premium"


class Severity(StrEnum):
    """The seed's severity levels, set when a case opens from the type of problem and its impact."""

    A = "A"  # crítica
    B = "B"  # alta
    C = "C"  # no crítica


class Stage(StrEnum):
    """Where a case is in the seed's process.

    registro, then contacto; the case is solved by phone (resolucion_telefonica) and/or
    remotely once the customer consents (autorizacion_remota, then acceso_remoto); then
    resuelto, and finally cerrado, or cancelado from any working stage.
    """

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
        """Closed and cancelled cases accept no action and no deadline: their workflow ends."""
        return self in (Stage.CERRADO, Stage.CANCELADO)


class Availability(StrEnum):
    """When a cell's support is available: "24/7" or the seed's "horario comercial".

    It also decides how the target counts: elapsed time for 24/7, business time otherwise.
    """

    ALWAYS = "24/7"
    BUSINESS_HOURS = "business_hours"


class ResponseTarget(StrEnum):
    """The targets the seed's matrix names; a policy file may also give any `<n>s|m|h` duration."""

    ONE_HOUR = "1h"
    TWO_HOURS = "2h"
    FOUR_HOURS = "4h"
    NEXT_DAY = "next_day"


class SlaState(StrEnum):
    """How the initial-response commitment stands.

    `pending` until the first response or the due instant decides `met` or `breached`;
    `not_committed` for "sin compromiso" cells, which nothing can breach.
    """

    PENDING = "pending"
    MET = "met"
    BREACHED = "breached"
    NOT_COMMITTED = "not_committed"
