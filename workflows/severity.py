"""Severity from an impact assessment, by the seed's definitions ("Gestión de casos").

The seed describes each level by access to services, users affected, business impact and
whether an acceptable workaround exists. The rules apply in order, most severe first, so a
case that matches A and C criteria at once is A; whatever is neither A nor C is B, which
the seed defines as the middle ground ("se puede utilizar pero de forma limitada").
Pure: usable from the API, the activities and the workflow sandbox.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from workflows.domain import Severity


class ImpactAssessment(BaseModel):
    """What intake observed about the incident's impact, in the seed's criteria for A, B and C.

    Send it instead of a severity to have the severity derived by the seed's rules; the
    assessment is stored with the case so agents can see what the grade was based on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    services_unavailable: bool  # "no se puede obtener acceso ... o no se pueden utilizar"
    users_affected: Literal["one", "several"]
    business_impact: Literal["severe", "moderate", "minimal"]
    workaround_available: bool  # "existe una solución alternativa aceptable"


class SeverityDecision(BaseModel):
    """A severity derived from an impact assessment, with the rule that chose it and the seed's
    criterion quoted in Spanish, so agents see why the case got its grade.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity
    rule: str  # stable code, stored with the case and shown to agents
    explanation: str  # Spanish, quotes the seed's criterion


RULE_SEVERE_IMPACT = "A-severe-impact"
RULE_UNAVAILABLE_SEVERAL = "A-unavailable-several-users"
RULE_MINIMAL_WITH_WORKAROUND = "C-minimal-impact-workaround"
RULE_DEFAULT_B = "B-limited-service"

_EXPLANATIONS = {
    RULE_SEVERE_IMPACT: (
        "Gravedad A porque «los plazos de producción, operaciones o desarrollo se ven "
        "afectados gravemente o se producirá un grave impacto en la producción o rentabilidad»."
    ),
    RULE_UNAVAILABLE_SEVERAL: (
        "Gravedad A porque «no se puede obtener acceso a uno o varios servicios o éstos no "
        "se pueden utilizar» y «se ven afectados varios usuarios o servicios»."
    ),
    RULE_MINIMAL_WITH_WORKAROUND: (
        "Gravedad C porque «la situación genera un mínimo impacto en el negocio» y «existe "
        "una solución alternativa aceptable»."
    ),
    RULE_DEFAULT_B: (
        "Gravedad B porque no cumple los criterios de A ni de C: «el servicio se puede "
        "utilizar pero de forma limitada» y «la situación tiene un impacto moderado en el "
        "negocio»."
    ),
}


def _decision(severity: Severity, rule: str) -> SeverityDecision:
    return SeverityDecision(severity=severity, rule=rule, explanation=_EXPLANATIONS[rule])


def classify(impact: ImpactAssessment) -> SeverityDecision:
    """Grade `impact` by the seed's criteria, most severe first (see the module).

    Used at intake only: the result is stored with the case, so a later change to these
    rules never regrades an open case.
    """
    if impact.business_impact == "severe":
        return _decision(Severity.A, RULE_SEVERE_IMPACT)
    if impact.services_unavailable and impact.users_affected == "several":
        return _decision(Severity.A, RULE_UNAVAILABLE_SEVERAL)
    if impact.business_impact == "minimal" and impact.workaround_available:
        return _decision(Severity.C, RULE_MINIMAL_WITH_WORKAROUND)
    return _decision(Severity.B, RULE_DEFAULT_B)
