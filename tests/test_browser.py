"""The customer opens the emailed link in a real browser, on a 360 px phone screen.

Debian's chromium (installed by .ci/run), driven by Playwright without its own browser
download (`tests.browser`). Screenshots are kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright
from temporalio.testing import WorkflowEnvironment

from tests.browser import ARTIFACTS, CHROMIUM, FLAGS, PHONE, overflow, require
from tests.customer_states import LONG_REASON
from tests.stack import ApiStack, api_stack, free_port, serving

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
require(Path(CHROMIUM))


@pytest.fixture(scope="module")
async def site(
    local_env: WorkflowEnvironment, migrated_db: str
) -> AsyncIterator[tuple[ApiStack, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with (
        api_stack(local_env, migrated_db, public_base_url=base) as stack,
        serving(stack.app, port),
    ):
        yield stack, base


@pytest.fixture
async def phone() -> AsyncIterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield await browser.new_page(viewport=PHONE)
        await browser.close()


async def emailed_link(
    site: tuple[ApiStack, str], reason: str, contact: str = "reached"
) -> tuple[dict[str, Any], str]:
    """A case whose customer was asked for remote access, and the link in the mail."""
    stack, base = site
    case = await stack.open_case()
    await stack.act(case["case_id"], "contacts", {"channel": "phone", "outcome": contact})
    r = await stack.act(
        case["case_id"], "remote-access/request", {"reason": reason, "access": "view"}
    )
    assert r.status_code == 200, r.text
    mail = await stack.inbox.wait_for(case["customer"]["email"], "autoriza")
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    match = re.search(re.escape(base) + r"/autorizacion/[A-Za-z0-9_-]+", part.get_content())
    assert match is not None
    return case, match.group(0)


async def test_customer_authorizes_from_the_emailed_link(
    site: tuple[ApiStack, str], phone: Any
) -> None:
    stack, _ = site
    case, link = await emailed_link(site, "Revisar el buzón compartido")
    await phone.goto(link)
    assert case["case_id"] in await phone.content()
    await phone.screenshot(path=str(ARTIFACTS / "autorizacion-pendiente.png"), full_page=True)
    await phone.get_by_role("button", name="Autorizar").click()
    result = await phone.wait_for_selector("#resultado")
    assert result is not None
    assert "registrado su autorización" in (await result.inner_text()).lower()
    await phone.screenshot(path=str(ARTIFACTS / "autorizacion-confirmada.png"), full_page=True)
    got = await stack.http.get(f"/cases/{case['case_id']}", headers=stack.auth("key-ops"))
    assert got.json()["stage"] == "acceso_remoto"
    assert got.json()["authorizations"][-1]["consents"][0]["user_agent"]
    assert (ARTIFACTS / "autorizacion-confirmada.png").stat().st_size > 0


async def test_a_long_reason_stays_on_a_360_px_screen(
    site: tuple[ApiStack, str], phone: Any
) -> None:
    _, link = await emailed_link(site, LONG_REASON)
    await phone.goto(link)
    assert await overflow(phone) <= 0
    consent = phone.locator(".consent")
    box = await consent.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    assert "lucia.perez" in await consent.inner_text()
    await phone.screenshot(path=str(ARTIFACTS / "autorizacion-motivo-largo.png"), full_page=True)


async def test_a_reload_after_the_decision_does_not_post_again(
    site: tuple[ApiStack, str], phone: Any
) -> None:
    stack, _ = site
    case, link = await emailed_link(site, "Revisar Outlook")
    posts: list[str] = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    await phone.goto(link)
    await phone.get_by_role("button", name="Rechazar").click()
    await phone.wait_for_url(re.compile(r"resultado=hecho"))
    assert await phone.title() == "Acceso remoto rechazado · amger:pro soporte técnico"
    await phone.reload()
    await phone.go_back()
    await phone.go_forward()
    assert len(posts) == 1
    assert "Hemos registrado que rechaza el acceso remoto." in await phone.content()
    got = await stack.http.get(f"/cases/{case['case_id']}", headers=stack.auth("key-ops"))
    assert len(got.json()["authorizations"][-1]["consents"]) == 1


async def test_after_the_case_is_resolved_the_page_says_so(
    site: tuple[ApiStack, str], phone: Any
) -> None:
    stack, _ = site
    case, link = await emailed_link(site, "Revisar Outlook")
    await phone.goto(link)
    await phone.get_by_role("button", name="Autorizar").click()
    await phone.wait_for_url(re.compile(r"resultado=hecho"))
    r = await stack.act(case["case_id"], "resolve", {"methods": ["phone"], "summary": "Hecho"})
    assert r.status_code == 200, r.text
    await phone.goto(link)
    heading = await phone.locator("h1").inner_text()
    assert heading == "Acceso remoto ya no activo: caso resuelto"
    text = await phone.locator("main").inner_text()
    assert "porque su caso se resolvió" in text
    assert "caduc" not in text
    assert await phone.get_by_role("button").count() == 0
    assert await overflow(phone) <= 0
    await phone.screenshot(path=str(ARTIFACTS / "autorizacion-caso-resuelto.png"), full_page=True)
