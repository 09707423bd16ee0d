"""axe-core over every state of the customer's pages and every customer mail, in Debian's
chromium at 360 px: zero violations, and nothing wider than the screen (issue 12)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright

from tests import customer_states as cs
from tests.browser import AXE, CHROMIUM, FLAGS, PHONE, axe_violations, overflow, require

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
require(AXE, Path(CHROMIUM))

PAGES = (
    {f"autorizacion-{n}": cs.authorization_page(n) for n in cs.AUTHORIZATION_STATES}
    | {f"sesion-{n}": cs.session_page(n) for n in cs.SESSION_STATES}
    | {f"aviso-{n}": html for n, html in cs.notice_pages().items()}
)
MAILS = {f"correo-{k}": html for k, (_, _, html) in cs.customer_mails().items() if html}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


@pytest.mark.parametrize("name", sorted(PAGES | MAILS))
async def test_no_axe_violation_and_nothing_off_a_phone_screen(browser: Any, name: str) -> None:
    page = await browser.new_page(viewport=PHONE)
    try:
        await page.set_content((PAGES | MAILS)[name], wait_until="load")
        assert await axe_violations(page) == []
        assert await overflow(page) <= 0
    finally:
        await page.close()


async def test_every_state_and_mail_is_checked() -> None:
    assert len(PAGES) == len(cs.AUTHORIZATION_STATES) + len(cs.SESSION_STATES) + 2
    assert {"correo-access_revoked", "correo-session_ended_still_authorized"} <= set(MAILS)


def _luminance(rgb: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def test_the_keyboard_focus_ring_reaches_3_to_1(browser: Any) -> None:
    page = await browser.new_page(viewport=PHONE)
    try:
        await page.set_content(PAGES["autorizacion-pending"], wait_until="load")
        stops = await page.evaluate("() => document.querySelectorAll('button, a[href]').length")
        assert stops == 4  # Autorizar, Rechazar, then the footer's phone and mail links
        for _ in range(stops):
            await page.keyboard.press("Tab")
            focused = await page.evaluate(
                "() => { const e = document.activeElement, s = getComputedStyle(e);"
                " const card = getComputedStyle(e.closest('.card') || document.body);"
                " return [e.tagName, s.outlineStyle, s.outlineWidth, s.outlineColor,"
                " card.backgroundColor]; }"
            )
            tag, style, width, color, behind = focused
            assert tag in ("BUTTON", "A"), focused
            assert style == "solid", focused
            assert float(width.removesuffix("px")) >= 2, focused
            behind = behind if "0, 0, 0, 0" not in behind else "rgb(243, 244, 246)"
            assert contrast(color, behind) >= 3, focused
    finally:
        await page.close()
