"""What a customer's mail carries besides its template: the one-time link's secret and
the context of the confirmations (authorized, rejected, revoked, session ended).

Customer links are derived from a server secret and the request or session id (HMAC):
a retried send mails the same link, so a retry never voids the link the customer
already has, and PostgreSQL stores only the link's SHA-256 (`core.store.hash_secret`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.store.links import hash_secret
from workflows.effects import CustomerMessage
from workflows.messages import CustomerMail

CONFIRMATIONS = frozenset(
    {
        CustomerMessage.ACCESS_AUTHORIZED,
        CustomerMessage.ACCESS_REJECTED,
        CustomerMessage.ACCESS_REVOKED,
        CustomerMessage.SESSION_ENDED,
    }
)


def confirmation_context(mail: CustomerMail, link: str) -> dict[str, object]:
    """What a confirmation's template shows. `link` is the authorization page, where the
    customer sees the authorization and may still revoke it (the same link as in the
    request: it is derived, not stored)."""
    if mail.session is not None:
        s = mail.session
        return {
            "agent": s.agent, "started_at": s.started_at, "ended_at": s.ended_at,
            "outcome": s.outcome, "access_until": s.valid_until,
            "still_valid": s.valid_until is not None, "link": link,
        }  # fmt: skip
    auth = mail.authorization
    assert auth is not None
    return {
        "agent": auth.agent, "access": auth.access.value, "reason": auth.reason,
        "decided_at": auth.decided_at, "access_until": auth.access_until,
        "session_ended": auth.session_ended, "link": link,
    }  # fmt: skip


class LinkSecrets:
    """Customer links as HMAC(server secret, purpose and id): 256 bits, reproducible."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"customer-links\n" + secret.encode()).digest()

    def token(self, purpose: str, ident: str) -> tuple[str, bytes]:
        mac = hmac.new(self._key, f"{purpose}\n{ident}".encode(), hashlib.sha256).digest()
        token = base64.urlsafe_b64encode(mac).decode().rstrip("=")
        return token, hash_secret(token)
