"""Cases opened before a change to the workflow must keep running after it.

Every file under `tests/histories/` is a history recorded with an earlier version of the
workflow (see the `record_*.py` beside them). Replaying it with today's code must give
the same commands; a change that does not (a new timer, a reordered activity without
`workflow.patched`) would break every open case on deployment, and fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker.build import WORKFLOW_RUNNER
from workflows.case import CaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    raw = json.loads(path.read_text(encoding="utf-8"))
    started = raw["events"][0]["workflowExecutionStartedEventAttributes"]
    return WorkflowHistory.from_json(started.get("workflowId", path.stem), raw)


@pytest.mark.parametrize("version", ["v1", "v2", "v3", "v4", "v5"])
def test_every_recorded_path_is_here(version: str) -> None:
    names = {p.stem for p in HISTORIES}
    for path in (
        "phone",
        "remote-authorized",
        "remote-rejected",
        "remote-expired",
        "remote-revoked",
        "reclassified",
        "breached",
        "reopened",
        "auto-closed",
        "cancelled",
        "continued-as-new-first-run",
        "remote-access-ends-then-auto-closed",
    ):
        assert f"{version}-{path}" in names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = _load(path)
    replayer = Replayer(
        workflows=[CaseWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=WORKFLOW_RUNNER,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
