"""The API's metrics, its JSON logs, the request id that follows a request into the
case's activities, and /readyz's word on the worker; against the real stack (dev
server, real worker and activities, PostgreSQL, SMTP).
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.interceptors import RequestIdWorker
from core.logs import ContextFields, formatter
from tests.builders import customer_body, intake_body
from tests.eventually import eventually
from tests.stack import ApiStack
from worker.build import WORKFLOW_RUNNER
from workflows.case import CaseWorkflow

Lines = Callable[[], list[dict[str, Any]]]


@contextmanager
def json_logs() -> Iterator[Lines]:
    """Every log line of this process while inside, as the API and the worker write
    them (JSON, with the context fields), parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    handler.addFilter(ContextFields())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def lines_with(lines: Lines, **fields: Any) -> list[dict[str, Any]]:
    """Waits until some line carries all `fields` (activities run behind the answer)."""

    async def logged() -> list[dict[str, Any]]:
        found = [r for r in lines() if all(r.get(k) == v for k, v in fields.items())]
        assert found, f"no log line with {fields}"
        return found

    return await eventually(logged)


BODY = intake_body(customer=customer_body(id="C-OBS"))


async def test_a_request_id_follows_the_request_into_the_activities(stack: ApiStack) -> None:
    intake, contact = f"intake-{uuid.uuid4().hex[:8]}", f"contact-{uuid.uuid4().hex[:8]}"
    with json_logs() as lines:
        r = await stack.http.post(
            "/cases",
            json=BODY,
            headers=stack.auth("key-centralita") | {"X-Request-ID": intake},
        )
        assert r.status_code == 201, r.text
        assert r.headers["x-request-id"] == intake
        case_id = r.json()["case_id"]
        # The access line names the case the intake opened.
        [access] = await lines_with(lines, logger="api.access", request_id=intake)
        assert (access["case_id"], access["route"], access["status"]) == (case_id, "/cases", 201)
        assert access["method"] == "POST"
        assert isinstance(access["duration_ms"], float)
        assert {"time", "level", "message"} <= set(access)
        # The registration's effects leave through the lanes, in activities of their own.
        for activity in ("project_case", "send_customer_mail"):
            [done, *_] = await lines_with(
                lines, logger="worker.activity", activity=activity, request_id=intake
            )
            assert done["case_id"] == case_id

        r = await stack.act(case_id, "contacts", {"channel": "phone", "outcome": "reached"})
        assert r.status_code == 200
        generated = r.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        r = await stack.http.post(
            f"/cases/{case_id}/contacts",
            json={"channel": "phone", "outcome": "no_answer"},
            headers=stack.auth("key-ana") | {"X-Request-ID": contact},
        )
        assert r.status_code == 200, r.text
        [access] = await lines_with(lines, logger="api.access", request_id=contact)
        assert (access["case_id"], access["route"]) == (case_id, "/cases/{case_id}/contacts")
        [done, *_] = await lines_with(
            lines, logger="worker.activity", activity="project_case", request_id=contact
        )
        assert done["case_id"] == case_id
        # A request id someone could use to forge a log line is replaced, not used.
        r = await stack.http.get("/healthz", headers={"X-Request-ID": 'x" level="error'})
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    # Headers only: the history replays with or without the interceptor.
    history = await stack.services.temporal.get_workflow_handle(case_id).fetch_history()  # type: ignore[union-attr]
    for interceptors in ([], [RequestIdWorker()]):
        replayer = Replayer(
            workflows=[CaseWorkflow],
            data_converter=pydantic_data_converter,
            workflow_runner=WORKFLOW_RUNNER,
            interceptors=interceptors,
        )
        await replayer.replay_workflow(history)


async def test_metrics_by_route_template_for_ops_only(stack: ApiStack) -> None:
    case = await stack.open_case()
    await stack.act(case["case_id"], "contacts", {"channel": "phone", "outcome": "reached"})
    await stack.http.get("/no-such-page")
    assert (await stack.http.get("/metrics")).status_code == 401
    for key in ("key-ana", "key-sofia", "key-centralita"):
        r = await stack.http.get("/metrics", headers=stack.auth(key))
        assert r.status_code == 403, key
    r = await stack.http.get("/metrics", headers=stack.auth("key-ops"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'amger_api_requests_total{method="POST",route="/cases/{case_id}/contacts",status="200"}'
        in text
    )
    assert 'amger_api_requests_total{method="POST",route="/cases",status="201"}' in text
    assert 'amger_api_requests_total{method="GET",route="unmatched",status="404"}' in text
    bucket = 'amger_api_request_duration_seconds_bucket{le="0.005",method="POST",route="/cases"}'
    assert bucket in text
    assert "amger_api_requests_in_flight" in text
    assert case["case_id"] not in text  # labels are templates, never a case's path


async def test_readyz_says_whether_a_worker_polls_the_case_queue(stack: ApiStack) -> None:

    async def polled() -> httpx.Response:
        r = await stack.http.get("/readyz")
        assert r.json().get("worker") == "polling", r.text
        return r

    r = await eventually(polled, every=0.2)
    assert r.status_code == 200
    assert r.json()["worker_pollers"] >= 1
    # A queue nobody polls: reported, and the API stays ready (see api/routers/health.py).
    services = stack.services
    real = services.settings
    services.settings = real.model_copy(update={"temporal_task_queue": f"nobody-{uuid.uuid4()}"})
    try:
        r = await stack.http.get("/readyz")
    finally:
        services.settings = real
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["worker"], body["worker_pollers"]) == ("ready", "absent", 0)


def test_text_lines_show_case_and_request_in_brackets() -> None:
    record = logging.LogRecord("api.access", logging.INFO, __file__, 1, "hola %s", ("x",), None)
    record.case_id, record.request_id = "CASE-000001", "r-1"
    line = formatter("text").format(record)
    assert line.endswith(" INFO    api.access [case_id=CASE-000001 request_id=r-1]: hola x")


async def test_json_access_lines_keep_customer_tokens_out(stack: ApiStack) -> None:
    token = "t" * 43
    with json_logs() as lines:
        r = await stack.http.get(f"/autorizacion/{token}?x=1")
        assert r.status_code == 404
        [access] = await lines_with(lines, logger="api.access", route="/autorizacion/{token}")
    assert '"GET /autorizacion/[redacted] HTTP/1.1" 404' in access["message"]
    server_side = [line for line in lines() if line["logger"] != "httpx"]  # the test's client
    assert token not in json.dumps(server_side)
