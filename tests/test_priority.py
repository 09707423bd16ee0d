"""The order in which Temporal serves cases when its queues back up."""

from __future__ import annotations

import pytest

from workflows.domain import Plan, Severity
from workflows.priority import case_priority, priority_key
from workflows.sla import load_policy


@pytest.mark.parametrize("plan", list(Plan))
def test_severity_a_comes_first_on_every_plan(plan: Plan) -> None:
    assert priority_key(Severity.A, plan) == 1
    assert case_priority(Severity.A, plan).priority_key == 1


def test_every_cell_has_a_key_temporal_accepts() -> None:
    keys = {priority_key(s, p) for s in Severity for p in Plan}
    assert keys == {1, 2, 3, 4, 5}


def test_shorter_commitment_never_comes_after_a_longer_one() -> None:
    """Ordered by the shipped policy: a cell whose window is shorter (an hour target
    before `next_day`, any target before none) never gets a later key."""
    policy = load_policy()

    def rank(plan: Plan, severity: Severity) -> float:
        cell = policy.cell(plan, severity)
        delta = cell.target_delta
        if delta is not None:
            return delta.total_seconds()
        return 10**6 if cell.target is not None else 10**7  # next_day, then none

    cells = [(p, s) for p in Plan for s in Severity]
    for a in cells:
        for b in cells:
            if rank(*a) < rank(*b):
                assert priority_key(a[1], a[0]) <= priority_key(b[1], b[0]), (a, b)


def test_cells_without_commitment_come_last_free_after_basico() -> None:
    assert priority_key(Severity.C, Plan.BASICO) == 4
    assert priority_key(Severity.B, Plan.FREE) == priority_key(Severity.C, Plan.FREE) == 5
    assert priority_key(Severity.B, Plan.PREMIUM) < priority_key(Severity.B, Plan.BASICO)
