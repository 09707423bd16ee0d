"""`python -m worker.dev` (what `make run` runs): the whole system on one machine.

Starts, in order: PostgreSQL (embedded under DATA_DIR unless DATABASE_URL is set), the
Temporal dev server with its Web UI persisting to DATA_DIR (custom search attributes
registered), a local SMTP catcher (unless SMTP_HOST is set), the migrations, the worker
and the API; prints where to look; Ctrl-C stops everything it started, newest first.
Running it again finds the same cases, because every store lives under DATA_DIR.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api import keys as api_keys
from api.principals import KEY_DIGEST, ApiPrincipal, Role
from core.db import embedded_postgres, migrate
from core.logs import configure as configure_logging
from core.settings import Settings
from core.store import keys as data_keys
from core.temporal import connect
from worker.schedules import SCHEDULE_ID, ensure_report_schedule
from workflows.search_attributes import DEFINITIONS
from workflows.sla import load_policy

log = logging.getLogger("dev")
BIN = Path(sys.executable).parent


def temporal_command(
    db_file: Path | None, port: int, ui_port: int | None, namespace: str = "default"
) -> list[str]:
    cmd = [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
    ]
    cmd += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    if db_file is not None:
        # WAL with normal sync more than doubles workflow starts on SQLite (93/s -> 226/s).
        cmd += [
            "--db-filename",
            str(db_file),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ]
    for name, kind in DEFINITIONS.items():
        cmd += ["--search-attribute", f"{name}={kind}"]
    return cmd


def wait_for_port(
    host: str,
    port: int,
    timeout: float,
    proc: subprocess.Popen[Any] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


# One key per role, made on the first run and printed then: only digests are kept.
DEV_KEYS = (
    ApiPrincipal(name="centralita", display_name="Centralita", roles=[Role.CONTACT_CENTER]),
    ApiPrincipal(name="agente", display_name="Marta Ruiz", roles=[Role.AGENT]),
    ApiPrincipal(name="supervisora", display_name="Sofía Martín", roles=[Role.SUPERVISOR]),
    ApiPrincipal(name="operaciones", display_name="Operaciones", roles=[Role.OPS]),
    ApiPrincipal(name="prometheus", display_name="Prometheus", roles=[Role.METRICS]),
)


async def dev_keys(database_url: str) -> list[tuple[ApiPrincipal, str]]:
    """On the first run (no key in the table yet), one key per role, stored as digests;
    the keys, to print once. Nothing on later runs: the keys cannot be printed again."""
    async with await AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        if await data_keys.any_keys(conn):
            return []
        return [(p, await api_keys.create(conn, p)) for p in DEV_KEYS]


def forget_clear_keys(path: Path) -> bool:
    """Earlier versions kept the dev keys in clear in data/api-keys.json: remove that
    file (whether it still holds any key in clear is all that is read of it)."""
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(held, dict) or all(KEY_DIGEST.fullmatch(str(k)) for k in held):
        return False
    path.unlink()
    return True


def keys_banner(made: list[tuple[ApiPrincipal, str]], settings: Settings) -> list[str]:
    python = Path(sys.executable)
    if python.is_relative_to(Path.cwd()):
        python = python.relative_to(Path.cwd())
    env = "" if "DATA_DIR" not in os.environ else f"DATA_DIR={settings.data_dir} "
    command = f"{env}{python} -m api.keys"
    if made:
        lines = ["  API keys, shown only now (only their SHA-256 digests are stored):"]
        lines += [f"    {p.roles[0]:<15} {p.name:<12} {key}" for p, key in made]
    elif settings.api_keys or settings.api_keys_file:
        return ["  API keys: those of API_KEYS / API_KEYS_FILE"]
    else:
        lines = ["  API keys were shown on the first run; only their digests are kept."]
    return [
        *lines,
        f'  A new key:  {command} create --name ana --display-name "Ana García" --role agent',
        "              (and `revoke --name ana`, `list`)",
    ]


def dev_secret(path: Path) -> str:
    """The consent/link secret of this data folder, made once so links survive restarts."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.env = dict(os.environ)
        # People read these logs at a terminal; LOG_FORMAT=json still asks for JSON.
        self.env.setdefault("LOG_FORMAT", "text")

    def spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log.info("starting %s", name)
        proc = subprocess.Popen(cmd, env=self.env, start_new_session=True)
        self.children.append((name, proc))
        return proc

    def stop(self) -> None:
        # Newest first, one at a time: the API stops taking requests, then the worker
        # finishes its activities while Temporal is still there to hear about them.
        for name, proc in reversed(self.children):
            if proc.poll() is not None:
                continue
            log.info("stopping %s", name)
            proc.send_signal(signal.SIGINT if name == "temporal" else signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                proc.kill()
                proc.wait()

    def start(self) -> None:
        s = self.settings
        data = s.data_dir.resolve()
        data.mkdir(parents=True, exist_ok=True)
        database_url = s.database_url or embedded_postgres(data / "postgres")
        self.env |= {"DATABASE_URL": database_url, "DATA_DIR": str(data)}
        if not s.consent_hmac_secret.get_secret_value():
            self.env["CONSENT_HMAC_SECRET"] = dev_secret(data / "consent-secret")

        host, port = _host_port(s.temporal_address)
        ui_port = urlparse(s.temporal_ui_url).port or 8233
        temporal = self.spawn(
            "temporal", temporal_command(data / "temporal.db", port, ui_port, s.temporal_namespace)
        )
        if "SMTP_HOST" not in os.environ:
            self.spawn(
                "mail",
                [
                    sys.executable,
                    "-m",
                    "worker.mailcatcher",
                    "--smtp-port",
                    str(s.smtp_port),
                    "--http-port",
                    str(s.mail_ui_port),
                    "--folder",
                    str(data / "mail"),
                ],
            )
        wait_for_port(host, port, 60, temporal)
        applied = asyncio.run(migrate(database_url))
        log.info("migrations applied: %s", ", ".join(applied) or "none needed")
        if s.api_keys_file is None and forget_clear_keys(data / "api-keys.json"):
            log.warning("removed data/api-keys.json: it held API keys in clear (an old version)")
        configured = s.api_keys or s.api_keys_file
        made = [] if configured else asyncio.run(dev_keys(database_url))
        self.spawn("worker", [sys.executable, "-m", "worker"])
        self.schedule_report()
        api = self.spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                s.api_host,
                "--port",
                str(s.api_port),
            ],
        )
        wait_for_port(s.api_host, s.api_port, 60, api)
        self.announce(made)

    def schedule_report(self) -> None:
        """Create or update the daily SLA report's Schedule (paused stays paused)."""
        s = self.settings
        timezone = load_policy(s.sla_policy_file, s.sla_holidays_file).timezone

        async def ensure() -> str:
            client = await connect(s)
            return await ensure_report_schedule(client, s.temporal_task_queue, timezone)

        try:
            log.info("schedule %s %s", SCHEDULE_ID, asyncio.run(ensure()))
        except Exception as exc:  # the cases work without it; say so and carry on
            log.error("could not create the SLA report schedule: %s", exc)

    def announce(self, made: list[tuple[ApiPrincipal, str]]) -> None:
        s = self.settings
        lines = [
            "",
            "amger:pro support cases are running:",
            f"  API docs     http://{s.api_host}:{s.api_port}/docs",
            f"  Temporal UI  {s.temporal_ui_url}",
        ]
        if "SMTP_HOST" not in os.environ:
            lines.append(f"  Mail catcher http://127.0.0.1:{s.mail_ui_port}")
        lines += keys_banner(made, s)
        lines.append("Press Ctrl-C to stop.")
        print("\n".join(lines), flush=True)

    def watch(self) -> int:
        """Block until a signal or until a child dies; the exit status to return."""
        stop = {"signal": False}

        def on_signal(_sig: int, _frame: object) -> None:
            stop["signal"] = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not stop["signal"]:
            for name, proc in self.children:
                if proc.poll() is not None:
                    log.error("%s exited with %s; stopping the stack", name, proc.returncode)
                    return 1
            time.sleep(0.5)
        return 0


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


@contextlib.contextmanager
def running(settings: Settings) -> Iterator[Stack]:
    stack = Stack(settings)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format if "LOG_FORMAT" in os.environ else "text")
    with running(settings) as stack:
        code = stack.watch()
    sys.exit(code)


if __name__ == "__main__":
    main()
