"""The OpenAPI document is the contract a client integrates from; schemathesis holds the
API to it.

Every check schemathesis has, in its examples, coverage, fuzzing and stateful phases,
with a fixed seed (derandomized), against the app served over real HTTP with a real
worker, the Temporal dev server and PostgreSQL. Any failure fails the test.

schemathesis's pytest tests are synchronous and call the API with `requests`, so the
stack runs in a thread of its own with its own event loop (the session's loop is idle
while a synchronous test runs); it connects its own client to the session's dev server.
Each operation is called with the key of a role that may call it: a supervisor may do
everything but read `/metrics`, which takes the metrics role's key.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
from schemathesis import Case
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.keys import settings_digest
from api.main import create_app
from api.principals import ApiPrincipal, Role
from tests.stack import KEYS, api_stack, free_port, serving

# schemathesis' own negative strategies draw from `random`; Hypothesis warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")

METRICS_KEY = "key-prometheus"
CONTRACT_KEYS = KEYS | {
    settings_digest(METRICS_KEY): ApiPrincipal(
        name="prometheus", display_name="Prometheus", roles=[Role.METRICS]
    )
}
# Bounded so the module takes well under two minutes on two cores; the seed and
# derandomization make every run generate the same requests.
CONFIG: dict[str, Any] = {
    "seed": 20261125,
    "generation": {"deterministic": True, "max-examples": 12, "database": "none"},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": True, "max-steps": 8},
    },
}

_Started = tuple[asyncio.AbstractEventLoop, asyncio.Event]


async def _serve(target: str, database_url: str, port: int, started: Future[_Started]) -> None:
    try:
        client = await Client.connect(target, data_converter=pydantic_data_converter)
        env = WorkflowEnvironment.from_client(client)
        base = f"http://127.0.0.1:{port}"
        async with (
            api_stack(env, database_url, public_base_url=base, api_keys=CONTRACT_KEYS) as stack,
            serving(stack.app, port),
        ):
            stop = asyncio.Event()
            started.set_result((asyncio.get_running_loop(), stop))
            await stop.wait()
    except BaseException as exc:
        if not started.done():
            started.set_exception(exc)
        raise


@pytest.fixture(scope="module")
def served(local_env: WorkflowEnvironment, migrated_db: str) -> Iterator[str]:
    """The stack, served; its base URL."""
    target = local_env.client.service_client.config.target_host
    # The port is chosen now, as the stack starts, so nothing else takes it meanwhile.
    port = free_port()
    started: Future[_Started] = Future()
    thread = threading.Thread(
        target=asyncio.run, args=(_serve(target, migrated_db, port, started),), daemon=True
    )
    thread.start()
    loop, stop = started.result(timeout=60)
    base_url = f"http://127.0.0.1:{port}"
    schema.config.update(base_url=base_url)  # for the state machine
    yield base_url
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=30)
    assert not thread.is_alive(), "the served stack did not stop"


class RoleKeys:
    """The key of a role that may call the operation."""

    def get(self, case: Case[Any], ctx: schemathesis.AuthContext) -> str:
        return METRICS_KEY if case.operation.path == "/metrics" else "key-sofia"

    def set(self, case: Case[Any], data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


# The document as the app publishes it at /openapi.json (building the app connects to
# nothing); `served` sets where the stack listens.
schema = schemathesis.openapi.from_dict(
    create_app().openapi(),
    config=schemathesis.Config.from_dict(CONFIG),
)
schema.auth()(RoleKeys)


@schema.hook
def map_case(context: schemathesis.HookContext, case: Case[Any]) -> Case[Any]:
    """The one rule between parameters that JSON Schema cannot state, and the report's
    description does: `from` before `to`, at most 366 days apart. A request the schema
    accepts is made to keep it, so that the API must accept it (and one the schema
    refuses is left as generated)."""
    meta = case.meta
    if case.operation.path != "/reports/sla" or meta is None:
        return case
    if meta.generation.mode is not schemathesis.GenerationMode.POSITIVE or not case.query:
        return case
    try:
        start = datetime.fromisoformat(case.query["from"])
        end = start + timedelta(days=1)
    except (KeyError, TypeError, ValueError, OverflowError):
        return case  # left as generated: a refusal then fails the test, as it should
    case.query["to"] = end.isoformat()
    return case


@schema.parametrize()
def test_every_operation_keeps_the_contract(case: Case[Any], served: str) -> None:
    case.call_and_validate(base_url=served)


def test_sequences_of_calls_keep_the_contract(served: str) -> None:
    """Calls chained by the document's links (a case opened, then read and worked)."""
    schema.as_state_machine().run(
        settings=hypothesis.settings(
            max_examples=20,
            stateful_step_count=8,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


def _bodies(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, media type, media object) of every request and response body."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = [(f"{code}", r) for code, r in operation["responses"].items()]
            for part, body in [("request", operation.get("requestBody", {})), *answers]:
                for media_type, media in body.get("content", {}).items():
                    yield f"{method.upper()} {path} {part}", media_type, media


def test_every_body_has_examples_its_schema_accepts() -> None:
    document = create_app().openapi()
    bodies = list(_bodies(document))
    assert len(bodies) > 100  # the walk reached every operation's answers
    missing, refused = [], []
    for where, media_type, media in bodies:
        values = [media["example"]] if "example" in media else []
        values += [named["value"] for named in media.get("examples", {}).values()]
        if not values:
            missing.append(f"{where} {media_type}")
        if media_type != "application/json":
            continue
        schema = media["schema"] | {"components": document["components"]}
        validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        refused += [f"{where}: {e.message}" for v in values for e in validator.iter_errors(v)]
    assert missing == []
    assert refused == []
