"""One place that turns failures into HTTP answers; routes only raise.

Clients get a sentence and, where useful, the fields to fix or the actions allowed;
never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from api import pages

log = logging.getLogger(__name__)


class ApiError(Exception):
    """What a route raises instead of building an answer: `install`'s handler answers it.

    So one raise gives an API client JSON (`detail` plus `extra`, the fields of
    `api.schemas.ErrorOut`) and a customer's page its Spanish page.
    """

    status = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class CaseNotFound(ApiError):
    """404 for an unknown case, and for one the caller may not read: ids reveal nothing."""

    status = 404

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} not found", case_id=case_id)


class ActionRefused(ApiError):
    """The case's current state does not allow the action (409)."""

    status = 409

    def __init__(self, detail: str, stage: str | None, allowed: list[str]) -> None:
        super().__init__(detail, stage=stage, allowed_actions=allowed)


class Forbidden(ApiError):
    """403: the key's role may not, a body names another `agent`, or consent is unproven."""

    status = 403


class Unauthenticated(ApiError):
    """401, with `WWW-Authenticate: Bearer`: no key, an unknown one or a revoked one."""

    status = 401


class Unavailable(ApiError):
    """503: Temporal is unreachable, or no worker took the action in time.

    In the second case the action may still be applied when a worker returns, so clients
    retry with the same `request_id`: it is answered then, not applied twice.
    """

    status = 503


class BadRequest(ApiError):
    """422 for a rule the models cannot check (an instant without its offset), as pydantic's."""

    status = 422


_UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _for_customer(request: Request) -> bool:
    return pages.for_customer(request.url.path)


def _error(request: Request, status: int, body: dict[str, Any], **headers: str) -> Response:
    """JSON for API clients; for a customer's page, the Spanish page with its security
    headers, whatever failed."""
    if not _for_customer(request):
        return JSONResponse(body, status, headers=headers or None)
    if status >= 500:
        return pages.unavailable(request)
    return pages.gone(request, status)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into an answer, never a stack trace.

    JSON for API clients, the Spanish page under a customer's prefix. PostgreSQL or
    Temporal out of reach is 503 with `Retry-After`, not 500: nothing was changed, and the
    same request may succeed shortly.
    """

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Routing's own 404 and 405 (an address under a customer's prefix that no route
        matches, a PUT): the customer's page too; API clients keep FastAPI's answer. A
        405 names every method of the path (FastAPI's, only those of one route)."""
        if exc.status_code == 405:
            from api import metrics  # here: metrics imports the routes' dependencies

            allow = ", ".join(sorted(metrics.methods_at(request.scope)))
            exc = StarletteHTTPException(405, exc.detail, headers={"Allow": allow})
        if not _for_customer(request):
            return await http_exception_handler(request, exc)
        response = _error(request, exc.status_code, {"detail": exc.detail})
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return _error(request, exc.status, {"detail": exc.detail, **exc.extra}, **headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        unreadable = [e for e in exc.errors() if e["type"] == "json_invalid"]
        if unreadable:  # not JSON at all: a malformed request (400), not an invalid field
            where = unreadable[0]["loc"][-1]
            message = f"not valid JSON (at character {where})"
            body = {
                "detail": f"the body is {message}",
                "errors": [{"field": "body", "message": message}],
            }
            return _error(request, 400, body)
        errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        fields = ", ".join(e["field"] for e in errors)
        return _error(request, 422, {"detail": f"invalid request: {fields}", "errors": errors})

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception) -> Response:
        log.warning("PostgreSQL unreachable: %s", exc)
        detail = "PostgreSQL is unreachable; nothing was changed, retry later"
        return _error(request, 503, {"detail": detail}, **{"Retry-After": "5"})

    @app.exception_handler(RPCError)
    async def temporal_error(request: Request, exc: RPCError) -> Response:
        if exc.status in _UNREACHABLE:
            log.warning("Temporal unreachable: %s", exc)
            detail = "Temporal is unreachable; retry later"
            return _error(request, 503, {"detail": detail}, **{"Retry-After": "5"})
        log.error("Temporal error: %s", exc)
        return _error(request, 500, {"detail": "internal error"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return _error(request, 500, {"detail": "internal error"})
