"""The stack as `make run` starts it (`python -m worker.dev`), driven over HTTP.

One case from intake to closure; the Temporal UI answers and lists it; Ctrl-C stops
everything cleanly; a second start finds the same case.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from tests.builders import intake_body
from tests.stack import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
ROOT = Path(__file__).resolve().parent.parent


class DevStack:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.ports = {name: free_port() for name in ("api", "temporal", "ui", "smtp", "mail")}
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "SMTP_HOST", "API_KEYS", "API_KEYS_FILE")
        }
        self.env |= {
            "DATA_DIR": str(data),
            "API_PORT": str(self.ports["api"]),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.ports['temporal']}",
            "TEMPORAL_UI_URL": f"http://127.0.0.1:{self.ports['ui']}",
            "SMTP_PORT": str(self.ports["smtp"]),
            "MAIL_UI_PORT": str(self.ports["mail"]),
        }
        self.proc: subprocess.Popen[str] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def start(self) -> str:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.dev"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 120
        for line in self.proc.stdout:
            seen.append(line)
            if "Press Ctrl-C to stop." in line:
                return "".join(seen)
            if time.monotonic() > deadline:
                break
        self.proc.kill()
        raise AssertionError("the dev stack did not start:\n" + "".join(seen[-40:]))

    def interrupt(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=90)
        return code

    @staticmethod
    def keys(banner: str) -> dict[str, str]:
        """The keys the first start printed (only their digests are kept)."""
        return {role: f"Bearer {key}" for role, key in KEY_LINE.findall(banner)}


KEY_LINE = re.compile(r"^ +(contact_center|agent|supervisor|ops|metrics) +\S+ +(amger_\S+)$", re.M)


@pytest.fixture
def dev_stack() -> Iterator[DevStack]:
    with tempfile.TemporaryDirectory(prefix="support-e2e-") as folder:
        os.chmod(folder, 0o755)  # noqa: S103 - the embedded PostgreSQL user reads through it
        stack = DevStack(Path(folder) / "data")
        try:
            yield stack
        finally:
            if stack.proc is not None and stack.proc.poll() is None:
                stack.proc.kill()
                stack.proc.wait()


async def test_make_run_stack_serves_a_case_from_intake_to_closure(dev_stack: DevStack) -> None:
    banner = dev_stack.start()
    assert f"{dev_stack.api}/docs" in banner
    assert f"http://127.0.0.1:{dev_stack.ports['ui']}" in banner
    keys = dev_stack.keys(banner)
    assert set(keys) == {"contact_center", "agent", "supervisor", "ops", "metrics"}
    async with httpx.AsyncClient(base_url=dev_stack.api, timeout=30) as http:
        r = await http.post(
            "/cases",
            headers={"Authorization": keys["contact_center"]},
            json=intake_body(
                plan="estandar", severity="B", summary="No puedo configurar el correo"
            ),
        )
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        agent = {"Authorization": keys["agent"]}
        steps: list[tuple[str, dict[str, Any], str]] = [
            ("contacts", {"channel": "phone", "outcome": "reached"}, "resolucion_telefonica"),
            ("resolve", {"methods": ["phone"], "summary": "Perfil recreado"}, "resuelto"),
            ("close", {}, "cerrado"),
        ]
        for path, body, stage in steps:
            r = await http.post(f"/cases/{case_id}/{path}", json=body, headers=agent)
            assert r.status_code == 200, r.text
            assert r.json()["stage"] == stage
        ui_url = r.json()["temporal_ui_url"]
        assert (await http.get(ui_url)).status_code == 200
        mail_page = await http.get(f"http://127.0.0.1:{dev_stack.ports['mail']}/")
        assert case_id in mail_page.text

    client = await Client.connect(f"127.0.0.1:{dev_stack.ports['temporal']}")
    found = [
        w
        async for w in client.list_workflows(
            f"WorkflowId = '{case_id}' AND CaseStage = 'cerrado' AND CasePlan = 'estandar'"
        )
    ]
    assert len(found) == 1
    assert dev_stack.interrupt() == 0

    again = dev_stack.start()
    assert dev_stack.keys(again) == {}  # printed once, on the first start only
    async with httpx.AsyncClient(base_url=dev_stack.api, timeout=30) as http:
        r = await http.get(f"/cases/{case_id}", headers={"Authorization": keys["ops"]})
        assert r.status_code == 200
        assert r.json()["stage"] == "cerrado"
    assert dev_stack.interrupt() == 0
