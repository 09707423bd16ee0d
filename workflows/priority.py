"""Which cases Temporal serves first when its task queues back up.

Deadlines come in bursts by design (every `next_day` case registered on one day falls
due at the same local midnight; business-hours cases registered overnight enter the
queue at 09:00). Temporal's task `Priority` lets the matching service hand out the
workflow and activity tasks of the cases whose commitment is shortest first. Set on
the case's start, it applies to every workflow task of the case, and its activities
inherit it.

`priority_key` runs from 1 (first) to 5 (last); 3 is Temporal's default.
"""

from __future__ import annotations

from temporalio.common import Priority

from workflows.domain import Plan, Severity

# By the seed's matrix: severity A is one hour, 24/7, on every plan; B is two hours on
# estandar and premium, the next day on basico and nothing on free; C is four hours on
# estandar and premium, nothing on basico (24/7) and free (business hours).
_KEYS: dict[tuple[Severity, Plan], int] = {
    **{(Severity.A, plan): 1 for plan in Plan},
    (Severity.B, Plan.PREMIUM): 2,
    (Severity.B, Plan.ESTANDAR): 2,
    (Severity.B, Plan.BASICO): 3,
    (Severity.C, Plan.PREMIUM): 3,
    (Severity.C, Plan.ESTANDAR): 3,
    (Severity.C, Plan.BASICO): 4,
    (Severity.B, Plan.FREE): 5,
    (Severity.C, Plan.FREE): 5,
}


def priority_key(severity: Severity, plan: Plan) -> int:
    """1 for severity A on any plan; then the committed cells by how short their
    commitment is; the cells without a commitment last, free's (business hours) after
    basico's (24/7)."""
    return _KEYS[(severity, plan)]


def case_priority(severity: Severity, plan: Plan) -> Priority:
    """The priority a case starts with; set once, so a later reclassification keeps it."""
    return Priority(priority_key=priority_key(severity, plan))
