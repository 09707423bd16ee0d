"""One place that turns failures into HTTP answers; routes only raise.

Clients get a sentence and, where useful, the fields to fix or the actions allowed;
never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout
from temporalio.service import RPCError, RPCStatusCode

from api import pages

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class CaseNotFound(ApiError):
    status = 404

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} not found", case_id=case_id)


class ActionRefused(ApiError):
    """The case's current state does not allow the action (409)."""

    status = 409

    def __init__(self, detail: str, stage: str | None, allowed: list[str]) -> None:
        super().__init__(detail, stage=stage, allowed_actions=allowed)


class Forbidden(ApiError):
    status = 403


class Unauthenticated(ApiError):
    status = 401


class Unavailable(ApiError):
    status = 503


class BadRequest(ApiError):
    status = 422


_UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 503 and request.url.path.startswith(pages.CUSTOMER_PREFIXES):
            return pages.unavailable(request)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.detail, **exc.extra}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        fields = ", ".join(e["field"] for e in errors)
        return JSONResponse({"detail": f"invalid request: {fields}", "errors": errors}, 422)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("PostgreSQL unreachable: %s", exc)
        return JSONResponse(
            {"detail": "PostgreSQL is unreachable; nothing was changed, retry later"},
            503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RPCError)
    async def temporal_error(_: Request, exc: RPCError) -> JSONResponse:
        if exc.status in _UNREACHABLE:
            log.warning("Temporal unreachable: %s", exc)
            return JSONResponse(
                {"detail": "Temporal is unreachable; retry later"},
                503,
                headers={"Retry-After": "5"},
            )
        log.error("Temporal error: %s", exc)
        return JSONResponse({"detail": "internal error"}, 500)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse({"detail": "internal error"}, 500)
