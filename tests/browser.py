"""Debian's chromium driven by the project's Playwright, and axe-core from the npm
registry: what the browser and accessibility tests share.

Neither downloads a browser of its own. `.ci/run` installs chromium (apt) and unpacks
axe-core (`npm pack`) into `.cache/axe-core/`; without them the tests skip, except in CI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import ViewportSize

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(os.environ.get("AXE_CORE_JS", ROOT / ".cache/axe-core/package/axe.min.js"))
ARTIFACTS = ROOT / "test-artifacts"
PHONE: ViewportSize = {"width": 360, "height": 740}
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


def require(*paths: Path) -> None:
    """Skip the module when a tool is missing on a developer's machine; CI must have it."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing and not os.environ.get("CI"):
        pytest.skip(
            f"missing {', '.join(missing)}: apt-get install chromium; for axe-core, "
            "`npm pack axe-core@4.14.1` unpacked into .cache/axe-core (see .ci/run)",
            allow_module_level=True,
        )


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is (all rules axe runs by default, WCAG 2.x
    A and AA and best practices), each with the nodes that fail."""
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in result["violations"]
    ]


async def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the screen (0: nothing off the edge)."""
    width: int = await page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    return width
