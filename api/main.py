"""The ASGI app: `uvicorn api.main:app`.

Connections are made in the lifespan, never at import. The pool opens without waiting
and Temporal connects lazily, so the API starts, answers /healthz and reports 503 from
/readyz while PostgreSQL or Temporal is down.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from activities.db import make_pool
from activities.settings import Settings
from activities.store import CaseStore
from api import errors, limits, logging_filters
from api.deps import Services
from api.routers import cases, customer, health, sla
from worker.connect import connect
from workflows import consent
from workflows.sla import load_policy

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or Settings()
        if not s.database_url:
            raise RuntimeError("DATABASE_URL is not set (`make run` sets it for you)")
        consent.configure(s.require_secret())
        policy = load_policy(s.sla_policy_file, s.sla_holidays_file)
        pool = make_pool(s.database_url, s.database_pool_max, s.database_timeout_seconds)
        await pool.open(wait=False)
        app.state.services = Services(
            settings=s,
            store=CaseStore(pool),
            policy=policy,
            principals=s.principals(),
            temporal_connect=lambda: connect(s),
        )
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="amger:pro — casos de soporte técnico",
        version="0.1.0",
        lifespan=lifespan,
        description="Every support case runs as a durable Temporal workflow. "
        "Authenticate with `Authorization: Bearer <API key>`.",
    )
    errors.install(app)
    # Outside the routes, so a body is capped before authentication or parsing; the caps
    # are arguments so that a setting can feed them later.
    app.add_middleware(
        limits.BodyLimit,
        json_max_bytes=limits.JSON_MAX_BYTES,
        form_max_bytes=limits.FORM_MAX_BYTES,
    )
    # uvicorn imports this after configuring its logging: tokens in paths stay out of it.
    logging_filters.install()
    for module in (health, cases, sla, customer):
        app.include_router(module.router)
    return app


app = create_app()
