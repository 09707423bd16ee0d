"""Each HTTP request's id, case id, access line and metrics.

`RequestContext` wraps the whole app (outside the body cap, so a 413 is logged too):

- the request id is the client's X-Request-ID when it is a plain token (1-64 of
  `A-Z a-z 0-9 . _ : -`, so that it can go into logs and headers as it is), or a new
  one; the answer carries it back in X-Request-ID. `core.interceptors` carries it
  into the case workflow's activities;
- the case id is the route's `{case_id}` (intake sets it once it has the case's id);
- one access line per request (logger `api.access`), with route template, status,
  duration, request and case id. It replaces uvicorn's, which knows none of those
  (`core.logs.configure`), keeps uvicorn's wording, and has the customers'
  secrets taken out of its path like uvicorn's had (`api.logging_filters`);
- the request's figures for `GET /metrics` (`api.metrics.observe`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import logging_filters, metrics
from core.logs import CASE_ID, REQUEST_ID

HEADER = "x-request-id"
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
access_log = logging.getLogger("api.access")


def request_id(scope: Scope) -> str:
    """The client's X-Request-ID if it is a plain token, so it cannot forge log lines; else new."""
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            sent: str = value.decode("latin-1")
            if _TOKEN.fullmatch(sent):
                return sent
            break
    return uuid.uuid4().hex


class RequestContext:
    """The outermost middleware: ids for logs and Temporal, one access line, the metrics.

    Outside the body cap, so a refused upload is logged and counted too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        logging_filters.install(("api.access",))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the ids for the request, then log and measure it however it ends.

        An exception that escaped every handler is counted as the 500 the server sends.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        route, params = metrics.route_of(scope)
        case_id = params.get("case_id")
        if not (isinstance(case_id, str) and _TOKEN.fullmatch(case_id)):
            case_id = None  # what a client typed goes into logs only if it is a plain token
        tokens = (REQUEST_ID.set(rid), CASE_ID.set(case_id))
        status = 500  # unless an answer starts: an exception escaped every handler
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (HEADER.encode(), rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            metrics.observe(scope["method"], route, status, seconds)
            _access(scope, route, status, seconds)
            CASE_ID.reset(tokens[1])
            REQUEST_ID.reset(tokens[0])


def _access(scope: Scope, route: str, status: int, seconds: float) -> None:
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "-"
    path = scope.get("path", "")
    if query := scope.get("query_string", b""):
        path += "?" + query.decode("latin-1")
    # A 500 is a bug; a 503 says PostgreSQL or Temporal is away, which /readyz tells too.
    level = logging.ERROR if status == 500 else logging.WARNING if status > 500 else logging.INFO
    access_log.log(
        level,
        '%s - "%s %s HTTP/%s" %d',
        where,
        scope["method"],
        path,  # the filter on this logger redacts customers' tokens
        scope.get("http_version", "1.1"),
        status,
        extra={
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        },
    )
