"""The deployed processes as real OS processes, for fault tests: the Temporal dev server
(`temporal server start-dev`, as `make run` starts it), `python -m worker` and the API
under uvicorn, each with its own log file, so a test can SIGKILL or restart any one.

Configuration goes through the environment only, as in a deployment; the tests' API
keys (`tests.stack.KEYS`) are passed as digests in `API_KEYS`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from tests.builders import CONSENT_SECRET
from tests.eventually import eventually
from tests.stack import KEYS, free_port
from worker.dev import temporal_command

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# What a case records in PostgreSQL from intake to closure on the phone path: intake,
# one call that reaches the customer, resolve, close (deadlines come on top).
PHONE_LIFECYCLE = Counter(
    {
        "case_registered": 1,
        "case_queued": 1,
        "contact_logged": 1,
        "first_response": 1,
        "stage_changed": 4,
        "case_resolved": 1,
        "case_closed": 1,
    }
)

# Settings a developer's shell may hold that must not leak into the children.
_CLEARED = ("DATABASE_URL", "SMTP_HOST", "API_KEYS", "API_KEYS_FILE", "TEMPORAL_ADDRESS")


async def poll(
    check: Callable[[], Awaitable[T | None]],
    within: float,
    what: str,
    every: float = 0.2,
    logs: Callable[[], str] | None = None,
) -> T:
    """`eventually()` for checks that answer None (or False) for "not yet": fails after
    `within` seconds naming `what` (and the children's last log lines, if given)."""

    async def probe() -> T:
        found = await check()
        assert found is not None, what
        assert found is not False, what
        return found

    return await eventually(probe, within=within, every=every, context=logs)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def identity_prefix(self) -> str:
        """How the Temporal SDK names a worker by default: `<pid>@<host>`."""
        return f"{self.pid}@"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"  {self.name}| {line}" for line in text[-lines:])


@dataclass
class Processes:
    """Children started by one test, stopped (newest first) by `stop_all`."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Child:
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env if env is not None else self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, proc, log)
        self.children.append(child)
        return child

    def worker(self, name: str) -> Child:
        return self.spawn(name, [sys.executable, "-m", "worker"])

    def api(self, name: str, port: int) -> Child:
        cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1"]
        return self.spawn(name, [*cmd, "--port", str(port), "--log-level", "warning"])

    def dev_server(self, name: str, port: int, db_file: Path) -> Child:
        """The dev server as `make run` starts it (SQLite file, WAL), without its UI."""
        return self.spawn(name, temporal_command(db_file, port, None), dict(os.environ))

    @staticmethod
    def kill(child: Child) -> None:
        child.proc.kill()
        child.proc.wait(timeout=10)

    @staticmethod
    def stop(child: Child, timeout: float = 20) -> int:
        """SIGINT for the dev server (as `make run` stops it), SIGTERM for the others."""
        if child.alive():
            child.proc.send_signal(signal.SIGINT if "temporal" in child.name else signal.SIGTERM)
            try:
                child.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait(timeout=10)
        code: int = child.proc.returncode
        return code

    def stop_all(self) -> None:
        for child in reversed(self.children):
            self.stop(child, timeout=10)

    def logs(self, lines: int = 25) -> str:
        return "\n".join(c.tail(lines) for c in self.children if c.log.exists())


def app_env(
    temporal_address: str,
    task_queue: str,
    database_url: str,
    smtp_port: int,
    public_base_url: str,
) -> dict[str, str]:
    """The API's and the worker's environment, as docker-compose.yml gives it."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    keys = {digest: p.model_dump(mode="json") for digest, p in KEYS.items()}
    return env | {
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_TASK_QUEUE": task_queue,
        "DATABASE_URL": database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "PUBLIC_BASE_URL": public_base_url,
        "API_KEYS": json.dumps(keys),
        "CONSENT_HMAC_SECRET": CONSENT_SECRET,
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
    }


async def ready_api(
    http: httpx.AsyncClient, pollers: int, within: float, logs: Callable[[], str]
) -> None:
    """Until the API at `http`'s base URL answers /readyz and sees `pollers` workers."""

    async def check() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            r = await http.get("/readyz", timeout=5)
            body = r.json() if r.status_code == 200 else {}
            return int(body.get("worker_pollers") or 0) >= pollers
        return False

    await poll(check, within, f"{http.base_url} ready with {pollers} worker(s) polling", 0.5, logs)


@contextlib.contextmanager
def processes(folder: Path) -> Iterator[Processes]:
    procs = Processes(folder)
    try:
        yield procs
    finally:
        procs.stop_all()


__all__ = ["Child", "Processes", "app_env", "free_port", "poll", "processes", "ready_api"]
