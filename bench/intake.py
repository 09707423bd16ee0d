"""Intake throughput: `python -m bench.intake [--seconds 20] [--clients 16]`.

The whole path a contact center uses, on this machine: HTTP POST /cases to the API
(uvicorn), the update-with-start into the Temporal dev server configured as `make run`
configures it (SQLite file, WAL), the worker persisting the case to PostgreSQL, and the
201 answer. Prints cases per second and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn

from api.keys import settings_digest
from api.main import create_app
from api.principals import ApiPrincipal, Role
from bench.sla_timers import Sink, free_port
from core.db import embedded_postgres, make_pool, migrate
from core.settings import Settings
from core.temporal import connect
from worker.build import build_worker, case_activities
from worker.dev import temporal_command, wait_for_port

KEY = "bench-key"
BODY = {
    "customer": {"id": "C-1", "name": "Bench", "email": "bench@example.com"},
    "plan": "premium",
    "severity": "B",
    "severity_reason": "bench",
    "summary": "bench",
}


async def client_loop(http: httpx.AsyncClient, until: float, latencies: list[float]) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        r = await http.post("/cases", json=BODY, headers={"Authorization": f"Bearer {KEY}"})
        if r.status_code != 201:
            raise RuntimeError(f"{r.status_code}: {r.text}")
        latencies.append(time.perf_counter() - started)


async def run(url: str, temporal_port: int, seconds: float, clients: int) -> None:
    from aiosmtpd.controller import Controller

    await migrate(url)
    smtp = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    api_port = free_port()
    settings = Settings(
        consent_hmac_secret=secrets.token_urlsafe(48),
        database_url=url,
        temporal_address=f"127.0.0.1:{temporal_port}",
        api_port=api_port,
        smtp_port=smtp.port,
        api_keys={
            settings_digest(KEY): ApiPrincipal(
                name="bench", display_name="Bench", roles=[Role.CONTACT_CENTER]
            )
        },
    )
    client = await connect(settings)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), port=api_port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        async with make_pool(url) as pool:
            acts = case_activities(pool, client, settings, "Europe/Madrid")
            async with build_worker(client, settings.temporal_task_queue, acts):
                while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag only
                    await asyncio.sleep(0.05)
                limits = httpx.Limits(max_connections=clients)
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{api_port}", limits=limits, timeout=60
                ) as http:
                    await client_loop(http, time.monotonic() + 2, [])  # warm-up
                    latencies: list[float] = []
                    began = time.monotonic()
                    await asyncio.gather(
                        *(client_loop(http, began + seconds, latencies) for _ in range(clients))
                    )
                    elapsed = time.monotonic() - began
    finally:
        server.should_exit = True
        await serving
        smtp.stop()
    ms = sorted(x * 1000 for x in latencies)
    print(
        f"{len(ms)} cases in {elapsed:.1f} s with {clients} concurrent clients: "
        f"{len(ms) / elapsed:.1f} cases/s"
    )
    print(
        f"latency ms: p50 {statistics.median(ms):.0f}  p95 {ms[int(len(ms) * 0.95)]:.0f}"
        f"  p99 {ms[int(len(ms) * 0.99)]:.0f}  max {ms[-1]:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)  # the embedded PostgreSQL's own user must reach its data
        url = embedded_postgres(folder / "pg")
        port = free_port()
        temporal = subprocess.Popen(
            temporal_command(folder / "temporal.db", port, None),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port("127.0.0.1", port, 60, temporal)
            asyncio.run(run(url, port, args.seconds, args.clients))
        finally:
            temporal.terminate()
            temporal.wait()


if __name__ == "__main__":
    main()
