"""The customer opens the emailed link in a real browser and clicks Autorizar.

Debian's chromium (installed by .ci/run), driven by Playwright without its own browser
download. The screenshot is kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from temporalio.testing import WorkflowEnvironment

from tests.stack import api_stack, free_port, serving

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# The flags keep Chromium off the network it cannot reach here and out of root's sandbox.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); CI installs it",
        allow_module_level=True,
    )


async def test_customer_authorizes_from_the_emailed_link(
    local_env: WorkflowEnvironment, migrated_db: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with (
        api_stack(local_env, migrated_db, public_base_url=base) as stack,
        serving(stack.app, port),
    ):
        case = await stack.open_case()
        case_id = case["case_id"]
        await stack.act(case_id, "contacts", {"channel": "phone", "outcome": "reached"})
        r = await stack.act(
            case_id,
            "remote-access/request",
            {"reason": "Revisar el buzón compartido", "access": "view"},
        )
        assert r.status_code == 200
        mail = await stack.inbox.wait_for(case["customer"]["email"], "autoriza")
        part = mail.get_body(preferencelist=("plain",))
        assert part is not None
        match = re.search(re.escape(base) + r"/autorizacion/[A-Za-z0-9_-]+", part.get_content())
        assert match is not None

        ARTIFACTS.mkdir(exist_ok=True)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(match.group(0))
            assert case_id in await page.content()
            await page.screenshot(
                path=str(ARTIFACTS / "autorizacion-pendiente.png"), full_page=True
            )
            await page.get_by_role("button", name="Autorizar").click()
            result = await page.wait_for_selector("#resultado")
            assert result is not None
            assert "autorizado" in (await result.inner_text()).lower()
            await page.screenshot(
                path=str(ARTIFACTS / "autorizacion-confirmada.png"), full_page=True
            )
            await browser.close()
        got = await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ops"))
        assert got.json()["stage"] == "acceso_remoto"
        assert got.json()["authorizations"][-1]["consents"][0]["user_agent"]
    assert (ARTIFACTS / "autorizacion-confirmada.png").stat().st_size > 0
