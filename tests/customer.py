"""The customer's side of remote access, as the tests drive it: the mail with the link,
and the page's form posts."""

from __future__ import annotations

import re
from typing import Any

from tests.stack import ApiStack

LINK = re.compile(r"http://testserver(/autorizacion/[A-Za-z0-9_-]+)")
SESSION_LINK = re.compile(r"http://testserver(/sesion-remota/[A-Za-z0-9_-]+)")


async def text_of(stack: ApiStack, case: dict[str, Any], subject: str) -> str:
    mail = await stack.inbox.wait_for(case["customer"]["email"], subject)
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


async def requested(stack: ApiStack) -> tuple[dict[str, Any], str]:
    """A case waiting for the customer's authorization, and the path of its link."""
    case = await stack.open_case()
    r = await stack.act(case["case_id"], "contacts", {"channel": "email", "outcome": "sent"})
    assert r.status_code == 200
    r = await stack.act(
        case["case_id"],
        "remote-access/request",
        {"reason": "Revisar la configuración de Outlook", "access": "control"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "autorizacion_remota"
    match = LINK.search(await text_of(stack, case, "autoriza"))
    assert match is not None
    return case, match.group(1)


async def stage(stack: ApiStack, case_id: str) -> str:
    r = await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ops"))
    stage: str = r.json()["stage"]
    return stage


async def decide(stack: ApiStack, path: str, decision: str, **headers: str) -> Any:
    """Posts the form as a browser does and follows the 303 to the GET page: the answer
    is that page, `history[0]` the post's own answer (see `outcome`)."""
    r = await stack.http.post(
        path,
        content=f"decision={decision}",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "user-agent": "Firefox/140",
            **headers,
        },
        follow_redirects=True,
    )
    return r


def outcome(r: Any) -> str | None:
    """The hint the post's redirect carried: hecho, ya or no."""
    hint: str | None = r.url.params.get("resultado") if r.history else None
    return hint
