"""Assembling a worker: shared by `python -m worker`, the dev stack and the tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.messaging import Messaging
from activities.store import CaseStore
from workflows.case import CaseWorkflow


def case_activities(store: CaseStore, messaging: Messaging) -> list[Any]:
    return [store.record_case, *messaging.activities()]


# pydantic imports email_validator lazily, on the first EmailStr validation; passing it
# through keeps the sandbox from re-importing it (and warning) inside a running workflow.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("email_validator", "idna")
)


def build_worker(
    client: Client, task_queue: str, activities: Sequence[Any], **options: Any
) -> Worker:
    # 20 pollers: the SDK default of 5 capped new cases at about 60/s on 2 cores.
    options.setdefault("max_concurrent_workflow_task_polls", 20)
    options.setdefault("workflow_runner", WORKFLOW_RUNNER)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow],
        activities=list(activities),
        **options,
    )
