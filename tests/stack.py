"""An in-process copy of the deployed system for API tests: the real app (lifespan and
all), a real worker with the real activities, the Temporal dev server, PostgreSQL, and
an SMTP server on loopback that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from temporalio.testing import WorkflowEnvironment

from api.deps import Services
from api.keys import settings_digest
from api.main import create_app
from api.principals import ApiPrincipal, Role
from core.db import make_pool
from core.settings import Settings
from tests.builders import CONSENT_SECRET, intake_body
from tests.eventually import eventually
from worker.build import build_worker, case_activities
from workflows.sla import load_policy

# The tests' keys by role, as clients present them; settings hold only their digests.
KEY_OF_ROLE = {
    Role.CONTACT_CENTER: "key-centralita",
    Role.AGENT: "key-ana",
    Role.SUPERVISOR: "key-sofia",
    Role.OPS: "key-ops",
}
KEYS = {
    settings_digest("key-centralita"): ApiPrincipal(
        name="centralita", display_name="Centralita", roles=[Role.CONTACT_CENTER]
    ),
    settings_digest("key-ana"): ApiPrincipal(
        name="ana", display_name="Ana García", roles=[Role.AGENT]
    ),
    settings_digest("key-sofia"): ApiPrincipal(
        name="sofia", display_name="Sofía Martín", roles=[Role.SUPERVISOR]
    ),
    settings_digest("key-ops"): ApiPrincipal(
        name="ops", display_name="Operaciones", roles=[Role.OPS]
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Inbox:
    """An SMTP handler (aiosmtpd) that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    async def wait_for(self, address: str, subject_part: str) -> EmailMessage:
        async def arrived() -> EmailMessage:
            found = [m for m in self.to(address) if subject_part in str(m["Subject"])]
            assert found, f"no mail to {address} with {subject_part!r} in its subject"
            return found[0]

        return await eventually(arrived)


@dataclass
class ApiStack:
    http: httpx.AsyncClient
    settings: Settings
    services: Services
    inbox: Inbox
    skew: list[timedelta] = field(default_factory=lambda: [timedelta(0)])
    app: Any = None

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    async def open_case(self, **overrides: Any) -> dict[str, Any]:
        """Opens a case from `intake_body(**overrides)` as the contact centre."""
        body = intake_body(**overrides)
        r = await self.http.post("/cases", json=body, headers=self.auth("key-centralita"))
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    async def act(
        self, case_id: str, path: str, body: dict[str, Any] | None = None, key: str = "key-ana"
    ) -> httpx.Response:
        return await self.http.post(
            f"/cases/{case_id}/{path}", json=body or {}, headers=self.auth(key)
        )

    async def projected(self, case_id: str, within: float = 20) -> list[dict[str, Any]]:
        """Waits until PostgreSQL has every event of the case as the workflow has it now
        (the read model follows the workflow and may lag) and returns the events."""
        live = await self.http.get(f"/cases/{case_id}", headers=self.auth("key-ops"))
        assert live.json()["source"] == "workflow"
        wanted = live.json()["revision"]

        async def caught_up() -> list[dict[str, Any]]:
            r = await self.http.get(f"/cases/{case_id}/events", headers=self.auth("key-ops"))
            assert r.status_code == 200, r.text
            events: list[dict[str, Any]] = r.json()
            assert events, f"{case_id}: no event stored yet"
            stored = max(e["revision"] for e in events)
            assert stored >= wanted, f"{case_id}: revision {stored} stored of {wanted}"
            return events

        return await eventually(caught_up, within=within)

    def move_clock(self, by: timedelta) -> None:
        self.skew[0] += by


@asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[None]:
    """Serve `app` over real HTTP on loopback (for a browser), without its lifespan."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> None:  # uvicorn offers a flag, not an event
        assert server.started, f"uvicorn not serving on port {port}"

    await eventually(started, every=0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def api_stack(
    env: WorkflowEnvironment,
    database_url: str,
    public_base_url: str = "http://testserver",
    **settings_overrides: Any,
) -> AsyncIterator[ApiStack]:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    target = env.client.service_client.config.target_host
    defaults: dict[str, Any] = {
        "temporal_address": target,
        "temporal_task_queue": f"api-{uuid.uuid4()}",
        "database_url": database_url,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "api_keys": KEYS,
        "public_base_url": public_base_url,
        "consent_hmac_secret": CONSENT_SECRET,
    }
    settings = Settings(**(defaults | settings_overrides))
    app = create_app(settings)
    skew = [timedelta(0)]
    try:
        async with make_pool(database_url) as pool:
            acts = case_activities(pool, env.client, settings, load_policy().timezone)
            worker = build_worker(env.client, settings.temporal_task_queue, acts)
            async with worker, app.router.lifespan_context(app):
                services: Services = app.state.services
                services.clock = lambda: datetime.now(UTC) + skew[0]
                transport = httpx.ASGITransport(app=app, client=("127.0.0.5", 50000))
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                ) as http:
                    yield ApiStack(http, settings, services, inbox, skew, app)
    finally:
        smtp.stop()
