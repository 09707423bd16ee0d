"""The impact rules of workflows/severity.py against the seed's severity definitions."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from workflows.domain import Severity
from workflows.severity import ImpactAssessment, SeverityDecision, classify

A, B, C = Severity.A, Severity.B, Severity.C
SEVERE = "A-severe-impact"
DOWN = "A-unavailable-several-users"
MINOR = "C-minimal-impact-workaround"
OTHER = "B-limited-service"

# (services_unavailable, users_affected, business_impact, workaround_available) -> decision.
# Written out by hand from the seed, not generated from the rules under test.
TABLE: dict[tuple[bool, str, str, bool], tuple[Severity, str]] = {
    (False, "one", "severe", False): (A, SEVERE),
    (False, "one", "severe", True): (A, SEVERE),
    (False, "several", "severe", False): (A, SEVERE),
    (False, "several", "severe", True): (A, SEVERE),
    (True, "one", "severe", False): (A, SEVERE),
    (True, "one", "severe", True): (A, SEVERE),
    (True, "several", "severe", False): (A, SEVERE),
    (True, "several", "severe", True): (A, SEVERE),
    (False, "one", "moderate", False): (B, OTHER),
    (False, "one", "moderate", True): (B, OTHER),
    (False, "several", "moderate", False): (B, OTHER),
    (False, "several", "moderate", True): (B, OTHER),
    (True, "one", "moderate", False): (B, OTHER),
    (True, "one", "moderate", True): (B, OTHER),
    (True, "several", "moderate", False): (A, DOWN),
    (True, "several", "moderate", True): (A, DOWN),
    (False, "one", "minimal", False): (B, OTHER),
    (False, "one", "minimal", True): (C, MINOR),
    (False, "several", "minimal", False): (B, OTHER),
    (False, "several", "minimal", True): (C, MINOR),
    (True, "one", "minimal", False): (B, OTHER),
    (True, "one", "minimal", True): (C, MINOR),
    (True, "several", "minimal", False): (A, DOWN),
    (True, "several", "minimal", True): (A, DOWN),
}


def test_table_covers_every_combination() -> None:
    combos = set(
        itertools.product(
            [False, True], ["one", "several"], ["severe", "moderate", "minimal"], [False, True]
        )
    )
    assert set(TABLE) == combos
    assert len(TABLE) == 24


@pytest.mark.parametrize(("combo", "expected"), list(TABLE.items()), ids=str)
def test_classify_matches_table(
    combo: tuple[bool, str, str, bool], expected: tuple[Severity, str]
) -> None:
    unavailable, users, impact, workaround = combo
    decision = classify(
        ImpactAssessment.model_validate(
            {
                "services_unavailable": unavailable,
                "users_affected": users,
                "business_impact": impact,
                "workaround_available": workaround,
            }
        )
    )
    assert isinstance(decision, SeverityDecision)
    assert (decision.severity, decision.rule) == expected


def test_each_rule_explains_itself_in_one_spanish_sentence_quoting_the_seed() -> None:
    decisions = {
        classify(
            ImpactAssessment(
                services_unavailable=u,
                users_affected=n,
                business_impact=i,
                workaround_available=w,
            )
        )
        for u, n, i, w in TABLE
    }
    by_rule = {d.rule: d for d in decisions}
    assert set(by_rule) == {SEVERE, DOWN, MINOR, OTHER}
    seed_phrases = {
        SEVERE: "grave impacto en la producción o rentabilidad",
        DOWN: "se ven afectados varios usuarios o servicios",
        MINOR: "existe una solución alternativa aceptable",
        OTHER: "se puede utilizar pero de forma limitada",
    }
    for rule, phrase in seed_phrases.items():
        text = by_rule[rule].explanation
        assert phrase in text
        assert text.startswith(f"Gravedad {by_rule[rule].severity.value} ")
        assert text.endswith(".")
        assert text.count(".") == 1, text


def test_same_input_same_decision() -> None:
    impact = ImpactAssessment(
        services_unavailable=True,
        users_affected="one",
        business_impact="moderate",
        workaround_available=False,
    )
    assert classify(impact) == classify(impact.model_copy())


@pytest.mark.parametrize(
    "bad",
    [
        {"users_affected": "all"},
        {"business_impact": "high"},
        {"surprise": True},
    ],
)
def test_assessment_rejects_values_outside_the_vocabulary(bad: dict[str, object]) -> None:
    data: dict[str, object] = {
        "services_unavailable": False,
        "users_affected": "one",
        "business_impact": "minimal",
        "workaround_available": True,
    }
    with pytest.raises(ValidationError):
        ImpactAssessment.model_validate(data | bad)
