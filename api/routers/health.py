"""Liveness and readiness for orchestrators and the dev stack."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Services, ServicesDep
from workflows.search_attributes import PROJECTION_STATE

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
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
