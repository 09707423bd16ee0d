"""Emails to customers and to the support team: Spanish templates and SMTP delivery.

Templates live in `core/mail_templates/` as `<kind>.subject.txt`, `<kind>.txt` and an
optional `<kind>.html`. The Jinja environment is built on first use, so importing this
module (the worker and the API both do) costs nothing.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from core.labels import (
    ACCESS_LABELS,
    BUSINESS_HOURS,
    DAYS,
    METHOD_LABELS,
    MONTHS,
    PLAN_LABELS,
    SESSION_OUTCOMES,
    SEVERITY_LABELS,
    ZONE_NAMES,
    access_label,
)
from core.settings import Settings
from workflows.text import sendable_address

TEMPLATES_DIR = Path(__file__).resolve().parent / "mail_templates"
MESSAGE_ID_DOMAIN = "amger.pro"
KINDS = frozenset(
    {
        "acknowledgement",
        "authorization_request",
        "session_link",
        "resolution",
        "access_authorized",
        "access_rejected",
        "access_revoked",
        "session_ended",
        "team_notification",
    }
)
# What a team notice is about, as the first words an agent reads (its subject).
NOTICE_LABELS = {
    "case_queued": "Nuevo caso en la cola",
    "sla_warning": "La respuesta inicial vence pronto",
    "sla_breached": "Incumplido el tiempo de respuesta inicial",
    "remote_access_authorized": "El cliente autorizó el acceso remoto",
    "remote_access_rejected": "El cliente rechazó el acceso remoto",
    "remote_access_revoked": "El cliente revocó el acceso remoto",
    "remote_access_expired": "Caducó la solicitud de acceso remoto",
    "case_reopened": "Caso reabierto",
    "message_undeliverable": "No se pudo entregar un mensaje",
    "projection_rejected": "La base de datos rechazó parte del historial",
}


@dataclass(frozen=True)
class Support:
    """How a customer reaches a person (settings SUPPORT_PHONE, _EMAIL, _HOURS)."""

    phone: str
    email: str
    hours: str

    @classmethod
    def of(cls, settings: Settings) -> Support:
        return cls(settings.support_phone, settings.support_email, settings.support_hours)


DEFAULT_SUPPORT = Support.of(Settings.model_construct())


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str  # becomes <message_id@amger.pro>: the same notice always has the same id
    to: str
    subject: str
    text: str
    html: str | None = None


class MailDeliveryError(Exception):
    """The SMTP server could not be reached or refused the message.

    Raised from an activity it fails the attempt, and Temporal retries it with backoff.
    """

    def __init__(self, recipient: str, reason: str, permanent: bool = False) -> None:
        super().__init__(f"could not deliver mail to {recipient}: {reason}")
        self.recipient = recipient
        self.reason = reason
        # A 5xx answer about the recipient will not change on retry.
        self.permanent = permanent


def _address(value: str) -> Address:
    # The email package reads "amger:pro soporte <...>" as an RFC 5322 group named "amger",
    # so the display name is split off by hand and quoted by Address.
    value = value.strip()
    if value.endswith(">") and "<" in value:
        name, _, addr = value[:-1].rpartition("<")
        return Address(display_name=name.strip().strip('"'), addr_spec=addr.strip())
    return Address(addr_spec=value)


class _EncodedSubject(str):
    """A subject written as RFC 2047 encoded words from end to end. The email package's
    own folding may leave a space before a line break next to an encoded word, which a
    reader shows as a double space ("en  ningún"); between encoded words a fold is no
    space at all."""

    name = "Subject"

    def fold(self, *, policy: Policy) -> str:
        encoded = Header(str(self), "utf-8", header_name="Subject").encode(linesep=policy.linesep)
        return f"Subject: {encoded}{policy.linesep}"


def build_message(mail: OutgoingMail, sender: str, now: datetime | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _address(sender)
    msg["To"] = _address(mail.to)
    msg["Subject"] = mail.subject if mail.subject.isascii() else _EncodedSubject(mail.subject)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = f"<{mail.message_id}@{MESSAGE_ID_DOMAIN}>"
    # Quoted-printable keeps the message 7-bit clean for relays without 8BITMIME.
    msg.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check(self, mail: OutgoingMail) -> None:
        """Raises ValueError (or UnicodeError) for a message that can never be sent:
        the recipient fails the intake's address rule, or the message cannot be encoded."""
        sendable_address(_address(mail.to).addr_spec)
        build_message(mail, self.settings.mail_from).as_bytes()

    async def send(self, mail: OutgoingMail) -> None:
        """Build `mail` and hand it to the SMTP server."""
        await self.deliver(mail.to, build_message(mail, self.settings.mail_from))

    async def deliver(self, recipient: str, msg: EmailMessage) -> None:
        """Hand an already built message (one with attachments, say) to the SMTP server.

        Raises:
            MailDeliveryError: `permanent` when the server refused the recipient with a 5xx.
        """
        # smtplib blocks; a thread keeps a slow mail server from stalling the worker's loop.
        await asyncio.to_thread(self._deliver, recipient, msg)

    def _deliver(self, recipient: str, msg: EmailMessage) -> None:
        s = self.settings
        sender = _address(s.mail_from).addr_spec
        rcpt = _address(recipient).addr_spec
        try:
            client: smtplib.SMTP
            if s.smtp_ssl:
                client = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                    context=ssl.create_default_context(),
                )  # fmt: skip
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            with client:
                if s.smtp_starttls and not s.smtp_ssl:
                    client.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    client.login(s.smtp_username, s.smtp_password)
                client.send_message(msg, from_addr=sender, to_addrs=[rcpt])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            raise MailDeliveryError(recipient, f"refused: {exc.recipients}", permanent) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(recipient, f"{type(exc).__name__}: {exc}") from exc


# --- Rendering ---


def format_local(dt: datetime, tz: str) -> str:
    """`miércoles, 25 de noviembre de 2026, 9:30 (hora de Madrid)`, without system locales."""
    if dt.tzinfo is None:  # the workflow only produces aware UTC times; naive means UTC
        dt = dt.replace(tzinfo=UTC)
    local = dt.astimezone(ZoneInfo(tz))
    place = ZONE_NAMES.get(tz, tz.rsplit("/", 1)[-1].replace("_", " "))
    zone = "UTC" if tz in ("UTC", "Etc/UTC") else f"hora de {place}"
    return (
        f"{DAYS[local.weekday()]}, {local.day} de {MONTHS[local.month - 1]} de {local.year}, "
        f"{local.hour}:{local.minute:02d} ({zone})"
    )


def format_hours(hours: float) -> str:
    """`8 horas`, `1 hora`, `1,5 horas`, `30 minutos`."""
    if hours < 1:
        minutes = round(hours * 60)
        return "1 minuto" if minutes == 1 else f"{minutes} minutos"
    if float(hours).is_integer():
        return "1 hora" if hours == 1 else f"{int(hours)} horas"
    return f"{hours:.2f}".rstrip("0").replace(".", ",") + " horas"


def join_es(items: list[str]) -> str:
    """`a`, `a y b`, `a, b y c`."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]


def _label(mapping: dict[str, str]) -> Callable[[object], str]:
    def label(value: object) -> str:
        return mapping.get(str(value), str(value))

    return label


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def authorization_text(
    customer_name: str, agent: str, access: str, case_id: str, reason: str, access_hours: float
) -> str:
    """The consent sentence the customer reads on the authorization page; stored verbatim.

    It states the scope the service applies: the authorization, not a session, is what
    lasts, until its end or the customer's revocation (README, "Remote access")."""
    return (
        f"Yo, {_one_line(customer_name)}, autorizo a {_one_line(agent)} de amger:pro a acceder "
        f"a mi equipo en modo {access_label(access)} para atender el caso {case_id} "
        f"({_one_line(reason)}). La autorización vale durante {format_hours(access_hours)} "
        "desde este momento: en ese tiempo el técnico puede iniciar una o varias sesiones sin "
        "volver a pedírmelo, y se me avisa por correo de cada una. No se instala ningún "
        "programa en mi equipo. Puedo revocar la autorización en cualquier momento desde esta "
        "página o desde el enlace de cada sesión; al revocarla termina también la sesión en "
        "curso."
    )


def add_filters(env: jinja2.Environment) -> None:
    """Filters shared by the mail templates and the API's pages."""
    env.filters.update(
        format_local=format_local,
        hours=format_hours,
        join_es=join_es,
        one_line=_one_line,
        severity_label=_label(SEVERITY_LABELS),
        plan_label=_label(PLAN_LABELS),
        access_label=_label(ACCESS_LABELS),
        method_label=_label(METHOD_LABELS),
        notice_label=lambda kind: NOTICE_LABELS.get(str(kind), str(kind).replace("_", " ")),
        session_outcome=_label(SESSION_OUTCOMES),
        tel=lambda phone: "".join(c for c in str(phone) if c.isdigit() or c == "+"),
    )
    env.globals["BUSINESS_HOURS"] = BUSINESS_HOURS


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        undefined=jinja2.StrictUndefined,  # a missing context value fails loudly, not blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    add_filters(env)
    return env


def render(
    kind: str, /, support: Support = DEFAULT_SUPPORT, **context: object
) -> tuple[str, str, str | None]:
    """(subject, text, html) of one kind of mail; html is None when the kind has none.

    `kind` is positional-only because team notifications carry their own `kind` value.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    context["support"] = support
    env = _environment()
    # Summaries come from customers: a newline in a header would be rejected by the
    # email package (header injection), so the subject is folded onto one line.
    subject = _one_line(env.get_template(f"{kind}.subject.txt").render(context))
    text = env.get_template(f"{kind}.txt").render(context)
    html = None
    if (TEMPLATES_DIR / f"{kind}.html").exists():
        html = env.get_template(f"{kind}.html").render(context)
    return subject, text, html
