"""Request bodies are capped before they are read (api.limits) and the customer's
secrets stay out of the access log (api.logging_filters).

The HTTP tests run the API as the Dockerfile does, `uvicorn api.main:app` in a process
of its own: the memory measured is then the server's alone (client and server sharing
this process would mix their allocations, and this process's peak is whatever earlier
tests left), and the log read is the one operators would read. The client streams its
100 MB from a generator that repeats one 64 KiB chunk, so it holds none of it either.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter

from api.limits import FORM_MAX_BYTES, JSON_MAX_BYTES, BodyLimit
from api.logging_filters import RedactCustomerSecrets, install
from api.main import create_app
from core.settings import Settings
from tests.eventually import eventually
from tests.stack import free_port
from worker.dev import wait_for_port

CHUNK = b"x" * 65536
HUNDRED_MB = 1600 * len(CHUNK)  # 100 MiB
# Well-formed (the routes' pattern) but unknown: the refusal must not depend on a lookup.
TOKEN = "tok_" + "A1b2C3d4" * 5
CODE = "cod_" + "Z9y8X7w6" * 5
FORM = b"decision=autorizar&relleno="  # what the pages post, padded by the tests
SECRETS = (TOKEN, CODE)
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "referrer-policy")
ROOT = Path(__file__).resolve().parent.parent
MAX_GROWTH_KIB = 20 * 1024  # the target, 20 MiB, in the KiB that /proc counts in


@dataclass
class Server:
    url: str
    pid: int
    log: Path

    def reset_peak(self) -> int:
        """Forget the peak resident memory (Linux `clear_refs` 5); the current RSS, KiB."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        return self._status("VmRSS")

    def peak(self) -> int:
        return self._status("VmHWM")

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/{self.pid}/status")

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def server(
    migrated_db: str, local_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "api.log"
    env = os.environ | {
        "DATABASE_URL": migrated_db,
        "TEMPORAL_ADDRESS": local_env.client.service_client.config.target_host,
        "API_KEYS": json.dumps({}),
        # Required by the API's start-up once customer consents are signed.
        "CONSENT_HMAC_SECRET": "test-limits-" + "k" * 32,
        "PYTHONUNBUFFERED": "1",
        # Access lines as a person reads them (JSON would escape their quotes).
        "LOG_FORMAT": "text",
    }
    command = ["uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *command], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        try:
            wait_for_port("127.0.0.1", port, 60, proc)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(log.read_text(errors="replace")[-3000:]) from exc
        yield Server(f"http://127.0.0.1:{port}", proc.pid, log)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class Body:
    """`size` bytes produced lazily, starting with `start`; counts what the client
    really handed to the socket."""

    def __init__(self, size: int, start: bytes = b"") -> None:
        self.size = size
        self.start = start
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.start:
            self.sent = len(self.start)
            yield self.start
        while self.sent < self.size:
            piece = CHUNK[: self.size - self.sent]
            self.sent += len(piece)
            yield piece


def post(server: Server, path: str, body: Body, *, declare: bool) -> httpx.Response:
    """POST a streamed body with its Content-Length, or chunked when `declare` is False."""
    headers = {"Content-Length": str(body.size)} if declare else {}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        return http.post(path, content=iter(body), headers=headers)


def assert_refused(r: httpx.Response, path: str) -> None:
    assert r.status_code == 413, r.text
    assert r.headers["connection"] == "close"
    if path.startswith("/cases"):
        assert r.json()["detail"] == f"request body too large: at most {JSON_MAX_BYTES} bytes"
    else:
        assert r.headers["content-type"].startswith("text/html")
        assert "Solicitud demasiado grande" in r.text
        assert all(h in r.headers for h in SECURITY_HEADERS)
        assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "chunked"])
def test_100_mb_to_cases_and_customer_pages_is_413_within_20_mib(
    server: Server, declare: bool
) -> None:
    before = server.reset_peak()
    for path in ("/cases", f"/autorizacion/{TOKEN}", f"/sesion-remota/{CODE}"):
        body = Body(HUNDRED_MB)
        r = post(server, path, body, declare=declare)
        assert_refused(r, path)
        # The server stopped reading and hung up: only what the sockets' buffers took.
        assert body.sent < HUNDRED_MB // 4, body.sent
    growth = server.peak() - before
    assert growth < MAX_GROWTH_KIB, f"server peak memory grew by {growth} KiB"


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "chunked"])
def test_a_body_at_the_cap_is_handled_and_one_byte_more_is_not(
    server: Server, declare: bool
) -> None:
    # At the cap the routes do their normal work: no key, unknown token or code.
    assert post(server, "/cases", Body(JSON_MAX_BYTES), declare=declare).status_code == 401
    for path in (f"/autorizacion/{TOKEN}", f"/sesion-remota/{CODE}"):
        r = post(server, path, Body(FORM_MAX_BYTES, FORM), declare=declare)
        assert r.status_code == 404, r.text
        r = post(server, path, Body(FORM_MAX_BYTES + 1, FORM), declare=declare)
        assert_refused(r, path)
    r = post(server, "/cases", Body(JSON_MAX_BYTES + 1), declare=declare)
    assert_refused(r, "/cases")


def lying_upload(server: Server, path: str, declared: int) -> tuple[bytes, int]:
    """Declare `declared` bytes, then try to send 100 MB: what came back, what went."""
    host, port = server.url.removeprefix("http://").split(":")
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {declared}\r\n\r\n"
    sent = 0
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(head.encode())
        try:
            while sent < HUNDRED_MB:
                s.sendall(CHUNK)
                sent += len(CHUNK)
        except OSError:  # reset or timed out: the server no longer takes any of it
            pass
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer, sent


@pytest.mark.parametrize(
    ("path", "declared"),
    [("/cases", 10), (f"/autorizacion/{TOKEN}", FORM_MAX_BYTES)],
    ids=["cases", "customer"],
)
def test_a_content_length_smaller_than_the_body_gets_no_further(
    server: Server, path: str, declared: int
) -> None:
    before = server.reset_peak()
    answer, sent = lying_upload(server, path, declared)
    # uvicorn hands the app the declared bytes only; the rest is a malformed next request,
    # refused, and the connection closed long before 100 MB.
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert sent < HUNDRED_MB // 4, sent
    assert server.peak() - before < MAX_GROWTH_KIB
    assert httpx.get(f"{server.url}/healthz").status_code == 200


async def test_access_log_shows_no_token_or_code(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get(f"/autorizacion/{TOKEN}")).status_code == 404
        assert (await http.get(f"/sesion-remota/{CODE}?x=1")).status_code == 404
        assert (await http.post(f"/autorizacion/{TOKEN}", content=FORM)).status_code == 404

    async def written() -> str:
        log = server.log_text()
        assert "/sesion-remota/[redacted]" in log, "the access lines are not written yet"
        return log

    log = await eventually(written, within=5)
    assert '"GET /autorizacion/[redacted] HTTP/1.1" 404' in log
    assert '"GET /sesion-remota/[redacted] HTTP/1.1" 404' in log
    assert '"POST /autorizacion/[redacted] HTTP/1.1" 404' in log
    # Nor from any other test of this module, which all ran against this server.
    assert not [secret for secret in SECRETS if secret in log]


def test_the_filter_rewrites_uvicorn_access_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/sesion-remota/{CODE}?a=b", "1.1", 200),
        None,
    )
    assert RedactCustomerSecrets().filter(record)
    fmt = LOGGING_CONFIG["formatters"]["access"]["fmt"]  # what uvicorn prints by default
    line = AccessFormatter(fmt, use_colors=False).format(record)
    assert line == 'INFO:     127.0.0.1:5000 - "GET /sesion-remota/[redacted] HTTP/1.1" 200 OK'
    install()
    install()  # create_app may run twice in a process: one filter is enough
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, RedactCustomerSecrets) for f in filters) == 1


# ASGI level, without a server: an app behind a server that let a lying length through.


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def call(app: Any, path: str, declared: int) -> tuple[dict[str, Any], int]:
    """Call `app` with an endless body declared as `declared` bytes; the answer (status,
    headers, body) and how many bytes the app pulled."""
    pulled = 0
    headers = [(b"content-length", str(declared).encode())]

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += len(CHUNK)
        return {"type": "http.request", "body": CHUNK, "more_body": True}

    answer: dict[str, Any] = {"body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(http_scope(path, headers), receive, send)
    return answer, pulled


async def test_the_real_app_counts_what_arrives_not_what_was_declared() -> None:
    app = create_app(Settings(database_url="postgresql://unused"))
    answer, pulled = await call(app, "/cases", declared=10)
    assert answer["status"] == 413
    assert json.loads(answer["body"])["detail"].startswith("request body too large")
    assert pulled <= JSON_MAX_BYTES + len(CHUNK)


async def test_a_customer_route_reading_a_lying_body_gets_the_413_page() -> None:
    async def reads_all(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("an endless body ended")

    answer, pulled = await call(BodyLimit(reads_all), f"/autorizacion/{TOKEN}", declared=100)
    assert answer["status"] == 413
    assert answer["headers"]["x-frame-options"] == "DENY"
    assert b"Solicitud demasiado grande" in answer["body"]
    assert pulled <= FORM_MAX_BYTES + len(CHUNK)
