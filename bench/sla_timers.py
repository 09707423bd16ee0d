"""How late do SLA warnings and breaches fire? (`make bench`, or `python -m bench.sla_timers`)

On the real Temporal dev server and the real clock, with a policy whose targets are
seconds instead of hours, this opens cases and compares when each warning and breach
fired (the workflow's own record, as persisted in PostgreSQL) with when it was due:

1. steady: the worker runs throughout;
2. worker outage: the worker stops before the deadlines and comes back after them;
   lateness is then counted from the worker's return;
3. mail down: the SMTP server is unreachable for the whole phase;
4. PostgreSQL down: the database is cut off before the cases' deadlines and comes back
   after them; the firing instants are the workflow's own, read once the read model has
   caught up (the time that took is printed too).

Targets: median under 1 s late in (1), (3) and (4); under 5 s after the worker returns
in (2). The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.workflow_gateway import open_case
from core.db import Pool, embedded_postgres, make_pool, migrate
from core.settings import Settings
from tests.faults import cuttable
from worker.build import build_worker, case_activities
from worker.dev import BIN
from workflows.domain import Plan, Severity
from workflows.messages import CaseInput
from workflows.models import Customer, SeverityAssignment
from workflows.search_attributes import DATETIMES, KEYWORDS
from workflows.sla import DEFAULT_POLICY_PATH, SlaPolicy, load_policy

SHORT_TARGETS = {'"1h"': '"20s"', '"2h"': '"30s"', '"4h"': '"40s"'}
CELLS = [(Plan.PREMIUM, Severity.A), (Plan.ESTANDAR, Severity.B), (Plan.PREMIUM, Severity.C)]


class Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


def short_policy(folder: Path) -> SlaPolicy:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    for hours, seconds in SHORT_TARGETS.items():
        text = text.replace(f"target = {hours}", f"target = {seconds}")
    text = text.replace('version = "', 'version = "bench-', 1)
    path = folder / "bench-policy.toml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


@dataclass
class Firing:
    kind: str
    due: datetime
    fired: datetime


async def open_cases(
    client: Client, queue: str, policy: SlaPolicy, count: int, tag: str
) -> list[str]:
    ids = []
    for i in range(count):
        plan, severity = CELLS[i % len(CELLS)]
        case_id = f"CASE-B{tag}{i:05d}-{int(time.time())}"
        inp = CaseInput(
            case_id=case_id,
            plan=plan,
            policy=policy,
            opened_by="bench",
            customer=Customer(id=f"B-{i}", name="Bench", email="bench@example.com"),
            severity=SeverityAssignment(severity=severity, reason="bench"),
            summary="bench",
            registered_at=datetime.now(UTC),
        )
        await open_case(client, queue, inp, timedelta(seconds=30))
        ids.append(case_id)
    return ids


async def firings(pool: Pool, ids: list[str]) -> list[Firing]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT e.type, e.at, c.doc FROM case_events e JOIN cases c USING (case_id)"
            " WHERE e.case_id = ANY(%s) AND e.type IN ('sla_warning', 'sla_breached')",
            (ids,),
        )
        rows = await cur.fetchall()
    out = []
    for row in rows:
        commitment = row["doc"]["sla"]["commitment"]
        key = "warning_at" if row["type"] == "sla_warning" else "response_due"
        out.append(Firing(row["type"], datetime.fromisoformat(commitment[key]), row["at"]))
    return out


FIGURES: dict[str, dict[str, float]] = {}


def report(title: str, items: list[Firing], expected: int, since: datetime | None = None) -> None:
    print(f"\n{title}: {len(items)} of {expected} expected firings recorded")
    for kind in ("sla_warning", "sla_breached"):
        late = [
            (f.fired - max(f.due, since or f.due)).total_seconds() for f in items if f.kind == kind
        ]
        if late:
            print(
                f"  {kind:<13} n={len(late):<4} median {statistics.median(late):6.3f} s"
                f"   max {max(late):6.3f} s   min {min(late):6.3f} s"
            )
            FIGURES[f"{title.split('.')[0]}:{kind}"] = {
                "n": len(late),
                "median_s": round(statistics.median(late), 3),
                "max_s": round(max(late), 3),
            }


async def caught_up(pool: Pool, ids: list[str], expected: int, limit: float) -> float:
    """Seconds until PostgreSQL holds `expected` firings of `ids` (or `limit`)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if len(await firings(pool, ids)) >= expected:
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def run(url: str, folder: Path, count: int) -> None:
    await migrate(url)
    policy = short_policy(folder)
    smtp = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = Settings(
        database_url=url, smtp_port=smtp.port, consent_hmac_secret=secrets.token_urlsafe(48)
    )
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        ui=False,
        data_converter=pydantic_data_converter,
        search_attributes=[*KEYWORDS, *DATETIMES],
    )
    try:
        async with make_pool(url) as pool:
            acts = case_activities(pool, env.client, settings, policy.timezone)

            def worker() -> Worker:
                return build_worker(env.client, "bench", acts)

            print(f"{count} cases per phase; targets 20 s / 30 s / 40 s, warning at 75 %")
            async with worker():
                ids = await open_cases(env.client, "bench", policy, count, "S")
                await asyncio.sleep(45)
            report("1. steady worker", await firings(pool, ids), 2 * count)

            async with worker():
                ids = await open_cases(env.client, "bench", policy, count, "O")
            print("worker stopped for 50 s, across every warning and deadline")
            await asyncio.sleep(50)
            back = datetime.now(UTC)
            async with worker():
                await asyncio.sleep(10)
            report(
                "2. after the worker returns (lateness from its return)",
                await firings(pool, ids),
                2 * count,
                since=back,
            )

            closed = settings.model_copy(update={"smtp_port": free_port()})  # nobody listens
            mail_down = case_activities(pool, env.client, closed, policy.timezone)
            async with build_worker(env.client, "bench", mail_down):
                ids = await open_cases(env.client, "bench", policy, count, "M")
                await asyncio.sleep(45)
            report("3. mail server down throughout", await firings(pool, ids), 2 * count)

            await pg_down_phase(env.client, url, settings, policy, count, pool)
    finally:
        await env.shutdown()
        smtp.stop()


async def pg_down_phase(
    client: Client, url: str, settings: Settings, policy: SlaPolicy, count: int, pool: Pool
) -> None:
    async with cuttable(url) as db, make_pool(db.url, timeout=1.0) as cut_pool:
        acts = case_activities(cut_pool, client, settings, policy.timezone)
        async with build_worker(client, "bench", acts):
            ids = await open_cases(client, "bench", policy, count, "P")
            await db.cut()
            print("PostgreSQL cut off for 45 s, across every warning and deadline")
            await asyncio.sleep(45)
            await db.restore()
            took = await caught_up(pool, ids, 2 * count, 60)
    print(f"\n4. read model caught up {took:.1f} s after PostgreSQL returned")
    FIGURES["4:catch_up_s"] = {"s": round(took, 1)}
    report("4. PostgreSQL down across the deadlines", await firings(pool, ids), 2 * count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    cases = parser.parse_args().cases
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded PostgreSQL's own user must reach its data
        asyncio.run(run(embedded_postgres(Path(tmp) / "pg"), Path(tmp), cases))
    print(json.dumps({"benchmark": "sla_timers", "cases_per_phase": cases, **FIGURES}))
