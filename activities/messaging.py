"""Activities that talk to people: the customer (Spanish emails with one-time links) and
the agents' and supervisors' channel (a notification row plus an email).

Secrets never enter workflow history: tokens and session codes are minted here with a
CSPRNG, only their SHA-256 is stored, and the plain value exists only in the email.
Sends are recorded by Message-ID so an activity retry does not mail twice; a crash
between the SMTP hand-off and that record can still resend (at-least-once delivery).
"""

from __future__ import annotations

import hashlib
import secrets

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.mail import (
    MailDeliveryError,
    Mailer,
    OutgoingMail,
    authorization_text,
    render,
)
from activities.settings import Settings
from activities.store import CaseStore
from workflows.models import (
    AuthorizationRequestNotice,
    CustomerNotice,
    SessionLinkNotice,
    TeamNotification,
)

TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG
UNDELIVERABLE = "Undeliverable"


def new_secret() -> tuple[str, bytes]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_secret(token)


def hash_secret(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Messaging:
    def __init__(self, store: CaseStore, mailer: Mailer, settings: Settings, tz: str) -> None:
        self.store = store
        self.mailer = mailer
        self.settings = settings
        self.tz = tz

    async def _already_sent(self, message_id: str) -> bool:
        async with self.store.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM outbound_emails WHERE message_id = %s", (message_id,)
            )
            return await cur.fetchone() is not None

    async def _send(self, case_id: str, kind: str, mail: OutgoingMail) -> None:
        try:
            await self.mailer.send(mail)
        except MailDeliveryError as exc:
            if exc.permanent:
                # Retrying cannot help; the workflow records the failure and goes on.
                raise ApplicationError(str(exc), type=UNDELIVERABLE, non_retryable=True) from exc
            raise
        async with self.store.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO outbound_emails (message_id, case_id, recipient, kind, subject)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (mail.message_id, case_id, mail.to, kind, mail.subject),
            )

    def _mail(self, message_id: str, to: str, template: str, **context: object) -> OutgoingMail:
        subject, text, html = render(template, tz=self.tz, **context)
        return OutgoingMail(message_id=message_id, to=to, subject=subject, text=text, html=html)

    @activity.defn(name="notify_team")
    async def notify_team(self, note: TeamNotification) -> None:
        await self.store.store_notification(note)
        message_id = f"team-{note.notification_id}"
        if await self._already_sent(message_id):
            return
        to = (
            self.settings.agents_email
            if note.audience == "agents"
            else self.settings.supervisors_email
        )
        case_url = f"{self.settings.api_base_url}/cases/{note.case_id}"
        await self._send(
            note.case_id,
            note.kind,
            self._mail(
                message_id,
                to,
                "team_notification",
                case_id=note.case_id,
                kind=note.kind,
                message=note.message,
                case_url=case_url,
            ),
        )

    @activity.defn(name="send_customer_notice")
    async def send_customer_notice(self, notice: CustomerNotice) -> None:
        message_id = f"{notice.kind}-{notice.notice_id}"
        if await self._already_sent(message_id):
            return
        case = notice.state
        context: dict[str, object] = {"case": case}
        if notice.kind == "resolution":
            last = case.resolutions[-1]
            context |= {
                "summary": last.summary,
                "methods": [m.value for m in last.methods],
                "reopen_until": case.reopen_until,
            }
        await self._send(
            case.case_id,
            notice.kind,
            self._mail(message_id, str(case.customer.email), notice.kind, **context),
        )

    @activity.defn(name="request_customer_authorization")
    async def request_customer_authorization(self, req: AuthorizationRequestNotice) -> None:
        case = req.state
        auth = case.authorization
        assert auth is not None
        assert auth.request_id == req.request_id
        message_id = f"authorization-{req.request_id}"
        if await self._already_sent(message_id):
            return  # re-minting now would void the link the customer already has
        token, digest = new_secret()
        text = authorization_text(
            case.customer.name,
            auth.agent,
            auth.access.value,
            case.case_id,
            auth.reason,
            req.access_hours,
        )
        async with self.store.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO remote_authorizations (request_id, case_id, token_hash, access,"
                " reason, agent, access_hours, text_shown, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (request_id) DO UPDATE SET token_hash = EXCLUDED.token_hash"
                " WHERE remote_authorizations.decided_at IS NULL",
                (
                    req.request_id,
                    case.case_id,
                    digest,
                    auth.access.value,
                    auth.reason,
                    auth.agent,
                    req.access_hours,
                    text,
                    auth.expires_at,
                ),
            )
        link = f"{self.settings.api_base_url}/autorizacion/{token}"
        await self._send(
            case.case_id,
            "authorization_request",
            self._mail(
                message_id,
                str(case.customer.email),
                "authorization_request",
                case=case,
                link=link,
                agent=auth.agent,
                access=auth.access.value,
                reason=auth.reason,
                expires_at=auth.expires_at,
                access_hours=req.access_hours,
            ),
        )

    @activity.defn(name="issue_session_link")
    async def issue_session_link(self, req: SessionLinkNotice) -> None:
        case = req.state
        session = next(s for s in case.sessions if s.session_id == req.session_id)
        message_id = f"session-{req.session_id}"
        if await self._already_sent(message_id):
            return
        code, digest = new_secret()
        async with self.store.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO remote_sessions (session_id, case_id, request_id, code_hash,"
                " expires_at) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (session_id) DO UPDATE SET code_hash = EXCLUDED.code_hash",
                (session.session_id, case.case_id, session.request_id, digest, session.expires_at),
            )
        link = f"{self.settings.api_base_url}/sesion-remota/{code}"
        await self._send(
            case.case_id,
            "session_link",
            self._mail(
                message_id,
                str(case.customer.email),
                "session_link",
                case=case,
                link=link,
                agent=session.agent,
                expires_at=session.expires_at,
            ),
        )

    def activities(self) -> list[object]:
        return [
            self.notify_team,
            self.send_customer_notice,
            self.request_customer_authorization,
            self.issue_session_link,
        ]
