"""Activities that talk to people: the customer (Spanish emails with one-time links,
`core.customer_mail`) and the agents' and supervisors' channel (an email).

Team notices need nothing but the mail server, so alerts go out while PostgreSQL is
down. A customer's link is stored (its SHA-256) when it is mailed. Sends are recorded
by Message-ID when PostgreSQL answers, so a retry does not mail twice; that record is
best effort and never holds a message back.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import UNBUILDABLE, UNDELIVERABLE
from core.customer_mail import CONFIRMATIONS, LinkSecrets, confirmation_context
from core.db import Pool
from core.mail import MailDeliveryError, Mailer, OutgoingMail, Support, authorization_text, render
from core.settings import Settings
from core.store import AuthorizationLink, CaseStore, LinkStore, SessionLink
from workflows.effects import CustomerMessage
from workflows.messages import (
    AuthorizationRequestNotice,
    CustomerMail,
    CustomerNotice,
    SessionLinkNotice,
    TeamNotification,
    customer_mail,
)

log = logging.getLogger(__name__)
_BEST_EFFORT_SECONDS = 1.0


class Messaging:
    def __init__(self, pool: Pool, mailer: Mailer, settings: Settings, tz: str) -> None:
        self.store = LinkStore(pool)
        self.cases = CaseStore(pool)
        self.mailer = mailer
        self.settings = settings
        self.tz = tz
        self.links = LinkSecrets(settings.consent_hmac_secret.get_secret_value())

    async def _already_sent(self, message_id: str) -> bool:
        try:
            async with asyncio.timeout(_BEST_EFFORT_SECONDS):
                return await self.store.mail_sent(message_id=message_id)
        except Exception as exc:  # PostgreSQL down: send; a rare duplicate beats silence
            log.info("sent-mail check skipped: %s", type(exc).__name__)
            return False

    async def _record_sent(self, case_id: str, kind: str, mail: OutgoingMail) -> None:
        try:
            async with asyncio.timeout(_BEST_EFFORT_SECONDS):
                await self.store.record_mail(
                    message_id=mail.message_id,
                    case_id=case_id,
                    recipient=mail.to,
                    kind=kind,
                    subject=mail.subject,
                )
        except Exception as exc:
            log.info("sent-mail record skipped: %s", type(exc).__name__)

    async def _deliver(self, mail: OutgoingMail) -> None:
        try:
            await self.mailer.send(mail)
        except MailDeliveryError as exc:
            if exc.permanent:
                raise ApplicationError(str(exc), type=UNDELIVERABLE, non_retryable=True) from exc
            raise

    def _mail(self, message_id: str, to: str, template: str, **context: object) -> OutgoingMail:
        try:
            subject, text, html = render(
                template, support=Support.of(self.settings), tz=self.tz, **context
            )
            mail = OutgoingMail(message_id=message_id, to=to, subject=subject, text=text, html=html)
            self.mailer.check(mail)
        except (ValueError, UnicodeError, LookupError) as exc:
            raise ApplicationError(
                f"the message cannot be built: {exc}", type=UNBUILDABLE, non_retryable=True
            ) from exc
        return mail

    @activity.defn(name="send_team_notice")
    async def send_team_notice(self, note: TeamNotification) -> None:
        s = self.settings
        to = s.agents_email if note.audience == "agents" else s.supervisors_email
        mail = self._mail(
            f"team-{note.notification_id}",
            to,
            "team_notification",
            case_id=note.case_id,
            kind=note.kind,
            message=note.message,
            # Where an agent can look and act: the history in the Temporal UI, and the
            # API's interactive docs (a JSON endpoint would need a key in the browser).
            history_url=s.temporal_case_url(note.case_id),
            docs_url=f"{s.api_base_url}/docs#/cases/get_case_cases__case_id__get",
        )
        await self._deliver(mail)

    @activity.defn(name="send_customer_mail")
    async def send_customer_mail(self, mail: CustomerMail) -> None:
        if await self._already_sent(mail.mail_id):
            return
        case = mail.case
        context: dict[str, object] = {"case": case}
        if mail.resolution is not None:
            context |= mail.resolution.model_dump()
        if mail.kind is CustomerMessage.AUTHORIZATION_REQUEST:
            context |= await self._authorization_link(mail)
        elif mail.kind is CustomerMessage.SESSION_LINK:
            context |= await self._session_link(mail)
        elif mail.kind in CONFIRMATIONS:
            about = mail.authorization or mail.session
            assert about is not None
            token, _ = self.links.token("authorization", about.request_id)
            link = f"{self.settings.api_base_url}/autorizacion/{token}"
            context |= confirmation_context(mail, link)
        out = self._mail(mail.mail_id, case.customer.email, mail.kind.value, **context)
        await self._deliver(out)
        await self._record_sent(case.case_id, mail.kind.value, out)

    async def _authorization_link(self, mail: CustomerMail) -> dict[str, object]:
        auth, case = mail.authorization, mail.case
        assert auth is not None
        token, digest = self.links.token("authorization", auth.request_id)
        text = authorization_text(
            case.customer.name,
            auth.agent,
            auth.access.value,
            case.case_id,
            auth.reason,
            auth.access_hours,
        )
        link = AuthorizationLink(
            request_id=auth.request_id,
            case_id=case.case_id,
            access=auth.access.value,
            reason=auth.reason,
            agent=auth.agent,
            access_hours=auth.access_hours,
            text_shown=text,
            expires_at=auth.expires_at,
        )
        await self.store.save_authorization(link=link, token_hash=digest)
        return {
            "link": f"{self.settings.api_base_url}/autorizacion/{token}",
            "agent": auth.agent,
            "access": auth.access.value,
            "reason": auth.reason,
            "expires_at": auth.expires_at,
            "access_hours": auth.access_hours,
        }

    async def _session_link(self, mail: CustomerMail) -> dict[str, object]:
        session, case = mail.session, mail.case
        assert session is not None
        code, digest = self.links.token("session", session.session_id)
        link = SessionLink(
            session_id=session.session_id,
            case_id=case.case_id,
            request_id=session.request_id,
            expires_at=session.expires_at,
        )
        await self.store.save_session(link=link, code_hash=digest)
        return {
            "link": f"{self.settings.api_base_url}/sesion-remota/{code}",
            "agent": session.agent,
            "expires_at": session.expires_at,
        }

    # --- Version 1 activities, kept while cases it started are open ---

    @activity.defn(name="notify_team")
    async def notify_team(self, note: TeamNotification) -> None:
        await self.cases.save_notice(notice=note)
        await self.send_team_notice(note)

    @activity.defn(name="send_customer_notice")
    async def send_customer_notice(self, notice: CustomerNotice) -> None:
        kind = CustomerMessage(notice.kind)
        await self.send_customer_mail(customer_mail(kind, notice.state, notice.notice_id))

    @activity.defn(name="request_customer_authorization")
    async def request_customer_authorization(self, req: AuthorizationRequestNotice) -> None:
        kind = CustomerMessage.AUTHORIZATION_REQUEST
        await self.send_customer_mail(customer_mail(kind, req.state, req.request_id))

    @activity.defn(name="issue_session_link")
    async def issue_session_link(self, req: SessionLinkNotice) -> None:
        kind = CustomerMessage.SESSION_LINK
        await self.send_customer_mail(customer_mail(kind, req.state, req.session_id))

    def activities(self) -> list[object]:
        return [
            self.send_team_notice,
            self.send_customer_mail,
            self.notify_team,
            self.send_customer_notice,
            self.request_customer_authorization,
            self.issue_session_link,
        ]
