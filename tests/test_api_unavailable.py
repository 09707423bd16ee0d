"""When PostgreSQL or Temporal is unreachable the API answers 503 and changes nothing;
a bad SLA policy file stops start-up naming the cell and field."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.db import make_pool
from core.settings import Settings
from tests.builders import CONSENT_SECRET, intake_body
from tests.eventually import eventually
from tests.stack import KEYS, ApiStack, free_port
from worker.build import build_worker, case_activities
from workflows.sla import DEFAULT_POLICY_PATH, PolicyError

pytestmark = pytest.mark.asyncio(loop_scope="session")
INTAKE = intake_body()
INTAKE_KEY = {"Authorization": "Bearer key-centralita"}


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_postgresql_down_is_503(local_env: WorkflowEnvironment) -> None:
    settings = Settings(
        consent_hmac_secret=CONSENT_SECRET,
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/support",
        database_timeout_seconds=1.0,
        api_keys=KEYS,
        temporal_address=local_env.client.service_client.config.target_host,
    )
    async with client_for(settings) as http:
        r = await http.post("/cases", json=INTAKE, headers=INTAKE_KEY)
        assert r.status_code == 503
        assert "PostgreSQL" in r.json()["detail"]
        r = await http.get("/cases/CASE-000001", headers={"Authorization": "Bearer key-ops"})
        assert r.status_code == 503
        r = await http.get("/readyz")
        assert r.status_code == 503
        assert r.json()["postgresql"] == "unreachable"
        assert r.json()["temporal"] == "ok"
        assert (await http.get("/healthz")).status_code == 200
        # The customer's pages stay pages, and do not claim that nothing changed.
        token = "t" * 43
        for r in (
            await http.get(f"/autorizacion/{token}"),
            await http.post(
                f"/autorizacion/{token}",
                content="decision=autorizar",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
        ):
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("text/html")
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert r.headers["cache-control"] == "no-store"
            assert "Puede que ya se haya registrado" in r.text
            assert "no se ha cambiado nada" not in r.text


async def test_temporal_down_is_503_and_reads_still_work(stack: ApiStack, migrated_db: str) -> None:
    case = await stack.open_case()
    await stack.projected(case["case_id"])  # what a Temporal-less API can read
    settings = Settings(
        consent_hmac_secret=CONSENT_SECRET,
        database_url=migrated_db,
        api_keys=KEYS,
        temporal_address=f"127.0.0.1:{free_port()}",
    )
    async with client_for(settings) as http:
        r = await http.post("/cases", json=INTAKE, headers=INTAKE_KEY)
        assert r.status_code == 503
        assert "Temporal" in r.json()["detail"]
        r = await http.post(
            f"/cases/{case['case_id']}/contacts",
            json={"channel": "phone", "outcome": "reached"},
            headers={"Authorization": "Bearer key-ana"},
        )
        assert r.status_code == 503
        r = await http.get(f"/cases/{case['case_id']}", headers={"Authorization": "Bearer key-ops"})
        assert r.status_code == 200
        assert r.json()["contacts"] == []
        r = await http.get("/readyz")
        assert r.status_code == 503
        assert r.json()["temporal"] == "unreachable"


async def test_a_bad_policy_file_stops_start_up(tmp_path: Path, migrated_db: str) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text(DEFAULT_POLICY_PATH.read_text().replace('target = "2h"', 'target = "2x"', 1))
    app = create_app(
        Settings(database_url=migrated_db, sla_policy_file=bad, consent_hmac_secret=CONSENT_SECRET)
    )
    with pytest.raises(PolicyError) as err:
        async with app.router.lifespan_context(app):
            pass
    assert err.value.field == "target"
    assert err.value.cell is not None
    assert err.value.cell.endswith("/B")


@asynccontextmanager
async def real_worker(env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[None]:
    async with make_pool(settings.database_url) as pool:
        acts = case_activities(pool, env.client, settings, "Europe/Madrid")
        async with build_worker(env.client, settings.temporal_task_queue, acts):
            yield


async def _found(http: httpx.AsyncClient, path: str) -> httpx.Response:
    async def found() -> httpx.Response:
        r = await http.get(path, headers={"Authorization": "Bearer key-ops"})
        assert r.status_code == 200, f"{path}: {r.status_code}"
        return r

    return await eventually(found, within=20, every=0.1)


async def test_without_a_worker_nothing_is_lost(
    local_env: WorkflowEnvironment, migrated_db: str
) -> None:
    settings = Settings(
        consent_hmac_secret=CONSENT_SECRET,
        database_url=migrated_db,
        api_keys=KEYS,
        update_timeout_seconds=1.0,
        temporal_address=local_env.client.service_client.config.target_host,
        temporal_task_queue=f"idle-{uuid.uuid4()}",
        smtp_port=free_port(),
    )
    async with client_for(settings) as http:
        r = await http.post("/cases", json=INTAKE, headers=INTAKE_KEY)
        assert r.status_code == 202
        case_id = r.json()["case_id"]
        assert r.headers["location"] == f"/cases/{case_id}"
        async with real_worker(local_env, settings):
            registered = await _found(http, f"/cases/{case_id}")
        assert registered.json()["stage"] == "registro"

        call = {"channel": "phone", "outcome": "reached", "request_id": "call-7"}
        agent = {"Authorization": "Bearer key-ana"}
        r = await http.post(f"/cases/{case_id}/contacts", json=call, headers=agent)
        assert r.status_code == 503
        assert "request_id" in r.json()["detail"]
        async with real_worker(local_env, settings):
            r = await http.post(f"/cases/{case_id}/contacts", json=call, headers=agent)
        assert r.status_code == 200
        assert len(r.json()["contacts"]) == 1
        assert r.json()["stage"] == "resolucion_telefonica"
