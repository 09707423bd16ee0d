"""The ASGI app: `uvicorn api.main:app`.

Connections are made in the lifespan, never at import. The pool opens without waiting
and Temporal connects lazily, so the API starts, answers /healthz and reports 503 from
/readyz while PostgreSQL or Temporal is down.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import errors, limits, logging_filters, metrics, openapi, pages
from api.deps import Services
from api.logs import RequestContext
from api.principals import configured_principals
from api.routers import cases, customer, health, history, reports, sla
from core.db import make_pool
from core.logs import configure as configure_logging
from core.settings import Settings
from core.store import CaseStore
from core.temporal import connect
from workflows import consent
from workflows.sla import load_policy

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app, built without connecting anywhere; its lifespan opens PostgreSQL and Temporal.

    Args:
        settings: the tests' own. None reads the environment when the app starts, not at
            import, and lets the app configure the process's logging, as under uvicorn.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or Settings()
        if settings is None:  # the process's own app (uvicorn): its logs are ours to format
            configure_logging(s.log_format, s.log_level)
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
            principals=configured_principals(s),
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
        docs_url=None,  # served by _offline_docs, from local files
        redoc_url=None,
        description="Every support case runs as a durable Temporal workflow. "
        "Authenticate with `Authorization: Bearer <API key>`.",
        # Operation ids a client's generated code can live with: the route's name.
        generate_unique_id_function=openapi.operation_id,
    )
    errors.install(app)
    # Outside the routes, so a body is capped before authentication or parsing; the caps
    # are arguments so that a setting can feed them later.
    app.add_middleware(
        limits.BodyLimit,
        json_max_bytes=limits.JSON_MAX_BYTES,
        form_max_bytes=limits.FORM_MAX_BYTES,
    )
    # Outermost: every answer (a 413 from the cap too) gets its request id, access line
    # and metrics.
    app.add_middleware(RequestContext)
    # uvicorn imports this after configuring its logging: tokens in paths stay out of it.
    logging_filters.install()
    for module in (health, cases, history, sla, reports, customer):
        app.include_router(module.router)
    app.include_router(metrics.router)
    _offline_docs(app)
    openapi.customise(app, pages.CUSTOMER_PREFIXES)
    return app


# Swagger UI and ReDoc as files of the fastapi-offline wheel: FastAPI's own pages load
# them from a CDN, which leaves /docs blank on a machine without internet.
DOCS_ASSETS = "/docs-assets"
_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"


def _offline_docs(app: FastAPI) -> None:
    app.mount(DOCS_ASSETS, StaticFiles(directory=_ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # No badge from the online validator: it would call swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


app = create_app()
