"""Liveness and readiness for orchestrators and the dev stack."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.deps import Services, ServicesDep
from api.schemas import HealthOut, ReadyOut
from workflows.search_attributes import PROJECTION_STATE

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> dict[str, str]:
    """Liveness, without a key: the process answers, whatever PostgreSQL and Temporal do.

    Restarting the API would not bring them back, so they are left to /readyz.
    """
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_class=JSONResponse,
    responses={
        200: {"model": ReadyOut, "description": "Ready"},
        503: {"model": ReadyOut, "description": "PostgreSQL or Temporal is unreachable"},
    },
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness, without a key: 200 when PostgreSQL and Temporal answer, else 503.

    Whether the read model keeps up and whether a worker polls are reported but never fail
    it: every replica sees the same task queue, so failing would take the whole API away
    while it can still open cases (202) and answer reads.
    """
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(services.store.ping(), timeout=3)
        checks["postgresql"] = "ok"
    except Exception as exc:
        log.warning("readiness: PostgreSQL: %s", exc)
        checks["postgresql"] = "unreachable"
    try:
        if services.temporal is None:
            assert services.temporal_connect is not None
            services.temporal = await asyncio.wait_for(services.temporal_connect(), timeout=3)
        await asyncio.wait_for(services.temporal.service_client.check_health(), timeout=3)
        checks["temporal"] = "ok"
    except Exception as exc:
        log.warning("readiness: Temporal: %s", exc)
        checks["temporal"] = "unreachable"
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, object] = {"status": "ready" if ready else "unavailable", **checks}
    if checks["temporal"] == "ok":
        body |= await _projection(services)
        body |= await _worker(services)
    return JSONResponse(body, 200 if ready else 503)


async def _projection(services: Services) -> dict[str, object]:
    """Whether PostgreSQL's read model keeps up: open cases whose projection lane is
    retrying say so in Temporal. Reads still work (from the workflows), so this informs
    rather than fails readiness."""
    assert services.temporal is not None
    query = f"{PROJECTION_STATE.name} = 'behind' AND ExecutionStatus = 'Running'"
    try:
        counted = await asyncio.wait_for(services.temporal.count_workflows(query), timeout=3)
    except Exception as exc:
        log.warning("readiness: projection: %s", exc)
        return {"projection": "unknown"}
    behind = counted.count
    return {"projection": "lagging" if behind else "current", "cases_behind": behind}


# Temporal lists a task queue's pollers for minutes after they stop, with the time of
# each one's latest poll; a worker that is alive polls again at least every minute (a
# long poll's span on the server), so a latest poll older than this means none is left.
POLLER_FRESH_SECONDS = 75


async def _worker(services: Services) -> dict[str, object]:
    """Whether a worker polls the case task queue for workflow tasks: without one no
    action is taken (each waits UPDATE_TIMEOUT_SECONDS, then 503) and no deadline fires.

    Reported, not failing readiness: readiness decides whether this API replica gets
    traffic, and every replica sees the same queue, so failing it would take the whole
    API away while it still opens cases (202, registered when a worker returns) and
    answers reads from PostgreSQL. Ops alert on `"worker": "absent"` or on the worker's
    metrics endpoint being down. A worker that stops shows here within about 75 s."""
    assert services.temporal is not None
    s = services.settings
    request = DescribeTaskQueueRequest(
        namespace=s.temporal_namespace,
        task_queue=TaskQueue(name=s.temporal_task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        described = await asyncio.wait_for(
            services.temporal.workflow_service.describe_task_queue(request), timeout=3
        )
    except Exception as exc:
        log.warning("readiness: task queue: %s", exc)
        return {"worker": "unknown"}
    now = time.time()
    polling = [
        p for p in described.pollers if now - p.last_access_time.ToSeconds() <= POLLER_FRESH_SECONDS
    ]
    return {"worker": "polling" if polling else "absent", "worker_pollers": len(polling)}
