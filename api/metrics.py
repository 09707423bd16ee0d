"""The API's Prometheus metrics (prometheus-client) and `GET /metrics`, for ops only.

Requests are counted by method, route template and status, never by path: a case id
or a customer's token in a label would make a series per case (and put the token in
Prometheus). `api.logs.RequestContext` measures every request and calls `observe`.

Why `/metrics` needs an ops key rather than being public like /healthz: the API is
published through the proxy, and these figures (traffic per route, error rates) are
for operators. Prometheus presents an ops key (`authorization.credentials_file`) and
scrapes each API replica directly, not through the proxy (which would pick one at
random). The worker's metrics are on their own port instead (`core.temporal`).

One process per container (uvicorn without --workers), so the default registry is the
whole story; it also carries prometheus-client's process and Python collectors.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Annotated, Any

import fastapi.routing
from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.routing import compile_path
from starlette.types import Scope

from api.deps import require
from api.principals import ApiPrincipal, Role
from api.responses import KEYED, Responses, errors

UNMATCHED = "unmatched"  # 404s: one series however many paths are tried
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Module-level: the registry is per process, and create_app may run more than once.
REQUESTS = Counter(
    "amger_api_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
ERRORS = Counter(
    "amger_api_errors",
    "Answers with a 5xx status (a failure, or PostgreSQL or Temporal unavailable)",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "amger_api_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template",
    ["method", "route"],
    # Up to UPDATE_TIMEOUT_SECONDS (15 s by default): an action that waited for a worker.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0),
)
IN_FLIGHT = Gauge("amger_api_requests_in_flight", "Requests being answered now")


@dataclass(frozen=True)
class _Route:
    template: str
    pattern: re.Pattern[str]
    methods: frozenset[str] | None  # None: a mounted app, which takes any method


_TABLES: weakref.WeakKeyDictionary[Any, list[_Route]] = weakref.WeakKeyDictionary()


def _table(app: Any) -> list[_Route]:
    """Every route of the app with its full template, in the router's order. Built from
    FastAPI's flattened view: from 0.120 on, included routers are matched lazily, so the
    app's top-level routes no longer carry the templates."""
    if app in _TABLES:
        return _TABLES[app]
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(flatten(app.routes)) if flatten is not None else list(app.routes)
    table = []
    for route in routes:
        methods = getattr(route, "methods", None)
        template = route.path if methods is not None else route.path + "/{path:path}"
        pattern, _, _ = compile_path(template)
        shown = template.replace("{path:path}", "{path}")
        table.append(_Route(shown, pattern, None if methods is None else frozenset(methods)))
    _TABLES[app] = table
    return table


def route_of(scope: Scope) -> tuple[str, dict[str, str]]:
    """The template of the route a request goes to (`/cases/{case_id}`) and its path
    parameters, matched as the router will; `unmatched` for an unknown path."""
    app = scope.get("app")
    if app is None or not hasattr(app, "routes"):
        return UNMATCHED, {}
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    partial: tuple[str, dict[str, str]] | None = None
    for route in _table(app):
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.methods is None or scope.get("method") in route.methods:
            return route.template, found.groupdict()
        if partial is None:  # the path, with another method: 405
            partial = (route.template, found.groupdict())
    return partial or (UNMATCHED, {})


def methods_at(scope: Scope) -> set[str]:
    """Every method some route takes at the request's path (a 405's `Allow`): FastAPI
    names only those of the first route that matched the path."""
    app = scope.get("app")
    if app is None or not hasattr(app, "routes"):
        return set()
    path = scope.get("path", "")
    return {
        m for r in _table(app) if r.methods is not None and r.pattern.match(path) for m in r.methods
    }


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count and time one answer by route template; an unknown method is `other`.

    Labels come from a fixed set, so no client can make Prometheus keep a new series.
    """
    method = method if method in _METHODS else "other"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    if status >= 500:
        ERRORS.labels(method, route, str(status)).inc()


# Ops, or a key that may read nothing else (Prometheus'): the metrics role.
MetricsReader = Annotated[ApiPrincipal, require(Role.OPS, Role.METRICS)]
router = APIRouter(tags=["operations"])


_TEXT: Responses = {
    200: {
        "content": {
            CONTENT_TYPE_LATEST: {
                "schema": {"type": "string"},
                "example": "amger_api_requests_in_flight 1.0\n",
            }
        },
        "description": "The API process's metrics in Prometheus' text format",
    },
}


@router.get("/metrics", response_class=Response, responses=_TEXT | errors(*KEYED))
async def metrics(_: MetricsReader) -> Response:
    """Requests, latency and errors by route template and status, plus the process's
    own figures, for Prometheus (a metrics or ops key)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
