"""Limits for every text a client can send, shared by the API and the workflow.

Every string has a maximum and every list a length, chosen so that the largest case a
client can build stays far below Temporal's 2 MiB payload limit (see
`tests/test_limits_payload.py`). Control characters are refused: PostgreSQL's jsonb
cannot store NUL, and others corrupt mail headers and what agents read. Names and
summaries also refuse bidirectional overrides and zero-width characters, which can make
a text read differently from what it is in mail, pages and the Temporal UI.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides and isolates; zero-width and invisible joiners.
_SPOOFING = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def no_controls(value: str) -> str:
    """The rule for multi-line free text (notes, reasons, descriptions): tab and line breaks are
    allowed, every other control character is refused (the module says why).
    """
    if _CONTROL.search(value):
        raise ValueError(
            "contains a control character (only tab, newline and carriage return are allowed)"
        )
    return value


def plain(value: str) -> str:
    """A one-line label: no control character at all, no invisible formatting."""
    no_controls(value)
    if any(c in value for c in "\t\r\n"):
        raise ValueError("must be a single line")
    if _SPOOFING.search(value):
        raise ValueError("contains a bidirectional override or zero-width character")
    return value


# Names, identifiers and one-line summaries.
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(plain)]
Identifier = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(plain)]
Summary = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(plain)]
Phone = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9+() .\-]+$")]
# Free text an agent or the contact center writes.
Note = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(no_controls)]
Reason = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(no_controls)]
Description = Annotated[str, Field(min_length=1, max_length=8000), AfterValidator(no_controls)]
# A client's retry key: a safe alphabet, so it can be part of an update id and a log line.
RequestId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Send the same value to retry safely (letters, digits, . _ : -)",
    ),
]

MAX_AFFECTED_SERVICES = 20
# Per case: beyond these an action is refused (409) instead of growing the case forever.
# With every text at its longest in four-byte characters, such a case is about 0.8 MB,
# under half of Temporal's 2 MiB payload limit (tests/test_limits_payload.py).
MAX_CONTACTS = 60
MAX_AUTHORIZATIONS = 10
MAX_SESSIONS = 10
MAX_RESOLUTIONS = 10


def sendable_address(value: str) -> str:
    """An address our mailer can deliver to, in the ASCII form it sends.

    The one rule for intake and for the mailer: a local part in plain ASCII (the mail
    relays in use do not offer SMTPUTF8); an internationalised domain becomes its IDNA
    form.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value, allow_smtputf8=False, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not an address we can send mail to: {exc}") from exc
    return checked.ascii_email or checked.normalized


MailAddress = Annotated[str, Field(max_length=254), AfterValidator(sendable_address)]
