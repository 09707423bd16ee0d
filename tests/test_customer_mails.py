"""Every customer mail: a main landmark and a heading, a hidden preview line, the action
before the case number in the subject, the support contact, and text that fits a phone."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest

from core.mail import OutgoingMail, build_message
from tests import customer_states as cs

MAILS = cs.customer_mails()


@pytest.mark.parametrize("kind", sorted(MAILS))
def test_every_mail_has_landmarks_a_heading_and_a_preview(kind: str) -> None:
    subject, text, html = MAILS[kind]
    assert html is not None
    assert 'role="main"' in html
    assert re.search(r"<h1[^>]*>[^<]+</h1>", html)
    assert re.search(r'<div style="display:none;[^"]*">[^<]+</div>', html)
    assert "overflow-wrap:anywhere" in html
    assert "word-break:break-all" not in html.replace('word-break:break-all;">http', "")
    assert '<span style="white-space:nowrap;">CASE-000123</span>' in html
    assert "900 264 377" in html
    assert "900 264 377" in text
    assert "soporte@amger.pro" in text
    # The action first, the case number after it.
    assert subject.endswith("(caso CASE-000123)")
    assert not subject.startswith("[")


def test_a_folded_subject_reads_back_without_double_spaces() -> None:
    subject = (
        "Incidencia registrada: No se pueden enviar correos desde Outlook en ningún equipo de "
        "la oficina de Málaga (caso CASE-000123)"
    )
    msg = build_message(OutgoingMail("x", "lucia@example.com", subject, "texto"), "a@b.example")
    raw = msg.as_bytes()
    assert max(len(line) for line in raw.split(b"\n")) <= 78
    parsed = message_from_bytes(raw, policy=policy.default)
    assert str(parsed["Subject"]) == subject
    assert "  " not in str(parsed["Subject"])
