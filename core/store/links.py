"""The customers' one-time links and the mails sent to them, in PostgreSQL.

A link's secret is never stored: only its SHA-256 (`hash_secret`), which is how a
page finds the link again. The worker writes a link when it mails it (the row carries
the exact consent text the mail and the page show); the API reads it when the customer
opens the page and notes the customer's decision beside it (the case's events hold the
consent itself).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from core.db import Pool


def hash_secret(token: str) -> bytes:
    """How a link's secret is stored and looked up."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class AuthorizationLink:
    """A row of `remote_authorizations`: a request for the customer's consent."""

    request_id: str
    case_id: str
    access: str
    reason: str
    agent: str
    access_hours: float
    text_shown: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionLink:
    """A row of `remote_sessions`: the link of one remote session."""

    session_id: str
    case_id: str
    request_id: str
    expires_at: datetime


_AUTHORIZATION = (
    "SELECT request_id, case_id, access, reason, agent, access_hours, text_shown, expires_at"
    " FROM remote_authorizations WHERE token_hash = %s"
)
_SESSION = (
    "SELECT session_id, case_id, request_id, expires_at FROM remote_sessions WHERE code_hash = %s"
)


class LinkStore:
    """`remote_authorizations`, `remote_sessions` and `outbound_emails`."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def authorization(self, *, token: str) -> AuthorizationLink | None:
        """The consent request whose link holds `token`; a plain read, no lock."""
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=class_row(AuthorizationLink)) as cur,
        ):
            await cur.execute(_AUTHORIZATION, (hash_secret(token),))
            return await cur.fetchone()

    async def session(self, *, code: str) -> SessionLink | None:
        """The remote session whose link holds `code`; a plain read, no lock."""
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=class_row(SessionLink)) as cur,
        ):
            await cur.execute(_SESSION, (hash_secret(code),))
            return await cur.fetchone()

    async def save_authorization(self, *, link: AuthorizationLink, token_hash: bytes) -> None:
        """Store a request's link as it is mailed; a retried mail changes nothing."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO remote_authorizations (request_id, case_id, token_hash, access,"
                " reason, agent, access_hours, text_shown, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    link.request_id,
                    link.case_id,
                    token_hash,
                    link.access,
                    link.reason,
                    link.agent,
                    link.access_hours,
                    link.text_shown,
                    link.expires_at,
                ),
            )

    async def save_session(self, *, link: SessionLink, code_hash: bytes) -> None:
        """Store a session's link as it is mailed; a retried mail changes nothing."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO remote_sessions (session_id, case_id, request_id, code_hash,"
                " expires_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (link.session_id, link.case_id, link.request_id, code_hash, link.expires_at),
            )

    async def record_decision(
        self, *, request_id: str, decision: str, ip: str | None, user_agent: str | None
    ) -> None:
        """Note the customer's decision beside the link. One statement, no lock: the
        workflow already decided."""
        async with self.pool.connection() as conn:
            if decision == "revoked":
                await conn.execute(
                    "UPDATE remote_authorizations SET revoked_at = now() WHERE request_id = %s",
                    (request_id,),
                )
                return
            await conn.execute(
                "UPDATE remote_authorizations SET decided_at = now(), decision = %s,"
                " decided_ip = %s, decided_user_agent = %s"
                " WHERE request_id = %s AND decided_at IS NULL",
                (decision, ip, user_agent, request_id),
            )

    async def mail_sent(self, *, message_id: str) -> bool:
        """Whether a mail with this Message-ID was recorded as sent."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM outbound_emails WHERE message_id = %s", (message_id,)
            )
            return await cur.fetchone() is not None

    async def record_mail(
        self, *, message_id: str, case_id: str, recipient: str, kind: str, subject: str
    ) -> None:
        """Record a sent mail by its Message-ID (once)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO outbound_emails (message_id, case_id, recipient, kind, subject)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (message_id, case_id, recipient, kind, subject),
            )
