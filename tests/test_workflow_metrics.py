"""The domain's own metrics, as Prometheus scrapes them from the worker's endpoint.

The worker here runs on a client whose Runtime serves the SDK's Prometheus endpoint
(`core.temporal.metrics_runtime`), on the time-skipping server, with no workflow
cache: every workflow task replays the case's history from the start, so a figure
recorded again on replay would show as a double count.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.temporal import connect, metrics_runtime
from tests.builders import REACHED, Recorder, act, case_input, start
from tests.stack import free_port
from worker.build import build_worker
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def metered(skipping_env: WorkflowEnvironment) -> tuple[Client, str]:
    """A client on a Runtime with the Prometheus endpoint, and that endpoint's URL."""
    port = free_port()
    target = skipping_env.client.service_client.config.target_host
    settings = Settings(temporal_address=target, worker_metrics_port=port)
    runtime = metrics_runtime(settings)
    assert runtime is not None
    return await connect(settings, runtime), f"http://127.0.0.1:{port}/metrics"


def series(text: str, name: str, task_queue: str) -> dict[str, float]:
    """The samples of `name` for one task queue: {'label="v",…': value}."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        m = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if m and f'task_queue="{task_queue}"' in m.group(1):
            labels = ",".join(
                p
                for p in m.group(1).split(",")
                if p.split("=")[0] in ("plan", "severity", "outcome", "deadline", "le")
            )
            found[labels] = float(m.group(2))
    return found


async def test_cases_responses_breaches_and_lateness_counted_once(
    skipping_env: WorkflowEnvironment, metered: tuple[Client, str]
) -> None:
    client, url = metered
    task_queue = f"metrics-{uuid.uuid4()}"
    rec = Recorder()
    worker = build_worker(
        client,
        task_queue,
        rec.activities(),
        max_cached_workflows=0,  # every task replays from the start
        workflow_failure_exception_types=[Exception],
    )
    async with worker:
        now = await skipping_env.get_current_time()
        met = await start(skipping_env.client, task_queue, case_input(registered_at=now))
        await act(met, CaseWorkflow.log_contact, REACHED)
        late = await start(skipping_env.client, task_queue, case_input(registered_at=now))
        await start(
            skipping_env.client,
            task_queue,
            case_input(Plan.ESTANDAR, Severity.B, registered_at=now),
        )
        # Premium A: warning at 45 min, breach at 1 h; estándar B is business hours.
        await skipping_env.sleep(timedelta(hours=1, minutes=1))
        state = await late.query(CaseWorkflow.state)
        assert state.sla.state.value == "breached"
        await skipping_env.sleep(timedelta(seconds=1))
    async with httpx.AsyncClient() as http:
        text = (await http.get(url)).text

    assert series(text, "amger_cases_opened", task_queue) == {
        'plan="premium",severity="A"': 2,
        'plan="estandar",severity="B"': 1,
    }
    assert series(text, "amger_first_responses", task_queue) == {
        'outcome="met",plan="premium",severity="A"': 1,
        'outcome="breached",plan="premium",severity="A"': 1,
    }
    counts = series(text, "amger_deadline_lateness_seconds_count", task_queue)
    assert counts['deadline="warning"'] == 1
    assert counts['deadline="breach"'] == 1
    # On time (the time-skipping server fires a timer at its instant): under 5 s.
    buckets = series(text, "amger_deadline_lateness_seconds_bucket", task_queue)
    assert buckets['deadline="breach",le="5"'] == 1
    # The SDK's own metrics come from the same endpoint.
    assert "temporal_workflow_task_execution_latency" in text
