"""Mail rendering and SMTP delivery against a real aiosmtpd server (the dev mail catcher
has tests/test_mailcatcher.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import jinja2
import pytest
from aiosmtpd.controller import Controller

from core.mail import (
    MailDeliveryError,
    Mailer,
    OutgoingMail,
    authorization_text,
    format_hours,
    format_local,
    render,
)
from core.settings import Settings
from tests.stack import free_port
from workflows.domain import Availability, Plan, Severity, SlaState, Stage
from workflows.effects import CustomerMessage
from workflows.messages import MailCase, customer_mail
from workflows.models import CaseState, CaseTimings, Customer, SeverityAssignment, SlaStatus
from workflows.sla import Commitment

TZ = "Europe/Madrid"
LINK = "https://soporte.amger.pro/autorizacion/AbC-123_xyz?origen=correo&paso=1"
REGISTERED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday


def make_case(
    plan: Plan = Plan.PREMIUM,
    severity: Severity = Severity.A,
    *,
    response_due: datetime | None = REGISTERED + timedelta(hours=1),
    availability: Availability = Availability.ALWAYS,
    registered_at: datetime = REGISTERED,
    attention_from: datetime | None = None,
    summary: str = "No se pueden enviar correos desde Outlook",
) -> MailCase:
    commitment = Commitment(
        policy_version="test",
        availability=availability,
        target="1h" if response_due else None,
        committed=response_due is not None,
        response_due=response_due,
        warning_at=None,
        attention_from=attention_from or registered_at,
    )
    state = SlaState.PENDING if response_due else SlaState.NOT_COMMITTED
    case = CaseState(
        case_id="CASE-000001",
        stage=Stage.REGISTRO,
        plan=plan,
        severity=severity,
        severity_assignment=SeverityAssignment(severity=severity, reason="test"),
        customer=Customer(id="C-1", name="Lucía Núñez", email="lucia@example.com"),
        summary=summary,
        registered_at=registered_at,
        opened_by="centralita",
        timings=CaseTimings(),
        sla=SlaStatus(commitment=commitment, state=state),
    )
    return customer_mail(CustomerMessage.ACKNOWLEDGEMENT, case, "t").case


class Collector:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Collector]]:
    collector = Collector()
    controller = Controller(
        collector, hostname="127.0.0.1", port=free_port(), server_hostname="localhost"
    )
    controller.start()
    try:
        yield controller.port, collector
    finally:
        controller.stop()


def parse(data: bytes) -> EmailMessage:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str | None]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None
    return text.get_content(), None if html is None else html.get_content()


def auth_mail(access: str = "control") -> tuple[str, str, str | None]:
    return render(
        "authorization_request", case=make_case(), tz=TZ, link=LINK, agent="Marta Gil",
        access=access, reason="Revisar la configuración de Outlook",
        expires_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC), access_hours=8.0,
    )  # fmt: skip


# --- Delivery ---


async def test_send_delivers_utf8_message_with_html_alternative(
    smtp_server: tuple[int, Collector],
) -> None:
    port, collector = smtp_server
    subject, text, html = auth_mail()
    mail = OutgoingMail("authorization-req-1", "lucia@example.com", subject, text, html)
    await Mailer(Settings(smtp_host="127.0.0.1", smtp_port=port)).send(mail)

    [envelope] = collector.envelopes
    assert envelope.rcpt_tos == ["lucia@example.com"]
    assert envelope.mail_from == "soporte@amger.pro"
    msg = parse(envelope.content)
    assert msg["To"] == "lucia@example.com"
    assert msg["From"].addresses[0].display_name == "amger:pro soporte"
    assert msg["Subject"] == subject
    assert "autorización" in msg["Subject"]
    assert msg["Message-ID"] == "<authorization-req-1@amger.pro>"
    assert msg["Date"].datetime is not None
    body, alternative = parts(msg)
    text_part = msg.get_body(preferencelist=("plain",))
    assert text_part is not None
    assert text_part.get_content_charset() == "utf-8"
    assert text_part["Content-Transfer-Encoding"] == "quoted-printable"  # 7-bit safe
    assert "Estimado/a Lucía Núñez:" in body
    assert LINK in body.split()
    assert alternative is not None
    assert 'href="https://soporte.amger.pro/autorizacion/AbC-123_xyz?origen=correo&amp;paso=1"' in (
        alternative
    )


async def test_same_message_id_on_resend(smtp_server: tuple[int, Collector]) -> None:
    port, collector = smtp_server
    mailer = Mailer(Settings(smtp_host="127.0.0.1", smtp_port=port))
    mail = OutgoingMail("team-n1", "agentes@amger.pro", "Asunto", "Texto")
    await mailer.send(mail)
    await mailer.send(mail)
    ids = [parse(e.content)["Message-ID"] for e in collector.envelopes]
    assert ids == ["<team-n1@amger.pro>"] * 2
    assert parse(collector.envelopes[0].content).get_body(preferencelist=("html",)) is None


async def test_delivery_error_when_nothing_listens() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout_seconds=2)
    with pytest.raises(MailDeliveryError) as caught:
        await Mailer(settings).send(OutgoingMail("x-1", "lucia@example.com", "Asunto", "Texto"))
    assert caught.value.recipient == "lucia@example.com"
    assert "Connection" in caught.value.reason or "refused" in caught.value.reason.lower()


# --- Rendering ---


class RejectingRecipients:
    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        return "550 5.1.1 no such mailbox"


async def test_a_rejected_recipient_is_a_permanent_failure() -> None:
    controller = Controller(RejectingRecipients(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        mailer = Mailer(Settings(smtp_host="127.0.0.1", smtp_port=controller.port))
        with pytest.raises(MailDeliveryError) as err:
            await mailer.send(OutgoingMail("m-1", "nadie@example.com", "Asunto", "Texto"))
    finally:
        controller.stop()
    assert err.value.permanent is True
    assert err.value.recipient == "nadie@example.com"


async def test_an_unreachable_server_is_not_permanent() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout_seconds=2)
    with pytest.raises(MailDeliveryError) as err:
        await Mailer(settings).send(OutgoingMail("m-2", "a@example.com", "Asunto", "Texto"))
    assert err.value.permanent is False


def test_format_local_across_dst_change() -> None:
    # Summer time ends in Spain on Sunday 25 October 2026 at 03:00 local (01:00 UTC).
    assert format_local(datetime(2026, 10, 24, 10, 0, tzinfo=UTC), TZ) == (
        "sábado, 24 de octubre de 2026, 12:00 (hora de Madrid)"
    )
    assert format_local(datetime(2026, 10, 26, 10, 0, tzinfo=UTC), TZ) == (
        "lunes, 26 de octubre de 2026, 11:00 (hora de Madrid)"
    )
    # And starts on Sunday 29 March 2026 at 02:00 local.
    assert format_local(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), TZ).endswith(
        " 1:30 (hora de Madrid)"
    )
    assert format_local(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), TZ).endswith(
        " 3:30 (hora de Madrid)"
    )
    assert format_local(datetime(2026, 11, 25, 9, 30, tzinfo=UTC), "Atlantic/Canary") == (
        "miércoles, 25 de noviembre de 2026, 9:30 (hora de Canarias)"
    )


def test_acknowledgement_with_commitment() -> None:
    subject, text, html = render("acknowledgement", case=make_case(), tz=TZ)
    assert subject == f"Incidencia registrada: {make_case().summary} (caso CASE-000001)"
    assert (
        "Le responderemos antes del miércoles, 25 de noviembre de 2026, 11:00 (hora de Madrid)."
        in text
    )
    assert "Gravedad: A (crítica)" in text
    assert "Plan: Administración Premium" in text
    assert "correo electrónico o por teléfono" in text
    assert "sin compromiso" not in text
    assert html is not None
    assert "A (crítica)" in html
    assert "antes del" in html


def test_acknowledgement_response_due_after_dst_change() -> None:
    registered = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # Saturday 22:00 summer time
    case = make_case(
        Plan.BASICO,
        Severity.B,
        registered_at=registered,
        response_due=registered + timedelta(days=1),
    )
    _, text, _ = render("acknowledgement", case=case, tz=TZ)
    # 20:00 UTC is 22:00 on Saturday but 21:00 on Sunday, after clocks go back.
    assert "antes del domingo, 25 de octubre de 2026, 21:00 (hora de Madrid)" in text
    assert "B (alta)" in text
    assert "Administración Básico" in text


def test_acknowledgement_without_commitment_in_business_hours() -> None:
    registered = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday
    case = make_case(
        Plan.FREE, Severity.C, response_due=None, availability=Availability.BUSINESS_HOURS,
        registered_at=registered, attention_from=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
    )  # fmt: skip
    _, text, html = render("acknowledgement", case=case, tz=TZ)
    assert "sin compromiso de tiempo de respuesta" in text
    assert "horario comercial (lunes a viernes, 9:00–18:00)" in text
    assert "a partir del lunes, 30 de noviembre de 2026, 9:00 (hora de Madrid)" in text
    assert "Le responderemos antes" not in text
    assert "C (no crítica)" in text
    assert "Administración Free" in text
    assert html is not None
    assert "sin compromiso de tiempo de respuesta" in html


def test_subject_stays_on_one_line_and_html_is_escaped() -> None:
    case = make_case(summary="Outlook <b>falla</b>\nBcc: otro@example.com")
    subject, text, html = render("acknowledgement", case=case, tz=TZ)
    assert "\n" not in subject
    assert "<b>falla</b>" in text  # plain text is not escaped
    assert html is not None
    assert "&lt;b&gt;falla&lt;/b&gt;" in html
    assert "<b>falla" not in html


@pytest.mark.parametrize(
    ("access", "label"), [("control", "control remoto"), ("view", "solo visualización")]
)
def test_authorization_request(access: str, label: str) -> None:
    subject, text, html = auth_mail(access)
    assert subject == "Solicitud de autorización: acceso remoto a su equipo (caso CASE-000001)"
    assert "Marta Gil" in text
    assert "Revisar la configuración de Outlook" in text
    assert f"Tipo de acceso: {label}." in text
    assert "No se instala ningún programa en su equipo" in text
    assert "de forma segura" in text
    assert "Solo usted puede autorizar" in text
    assert f"\n{LINK}\n" in text
    assert "un solo uso" in text
    assert "caduca el jueves, 26 de noviembre de 2026, 10:00 (hora de Madrid)" in text
    assert "revocar la autorización en cualquier momento" in text
    assert "la autorización vale 8 horas desde que la dé" in text
    assert "una o varias veces" in text
    assert html is not None
    assert "&amp;paso=1" in html
    assert label in html


def test_session_link() -> None:
    subject, text, html = render(
        "session_link", case=make_case(), tz=TZ, link=LINK, agent="Marta Gil",
        expires_at=datetime(2026, 11, 25, 17, 0, tzinfo=UTC),
    )  # fmt: skip
    assert "acceso remoto" in subject.lower()
    assert "Marta Gil" in text
    assert f"\n{LINK}\n" in text
    assert "revocar el acceso en cualquier momento" in text
    assert "Su autorización vale hasta el miércoles, 25 de noviembre de 2026, 18:00" in text
    assert "podrá volver a conectarse sin pedírsela de nuevo" in text
    assert html is not None
    assert "origen=correo&amp;paso=1" in html


def test_resolution() -> None:
    until = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    subject, text, html = render(
        "resolution", case=make_case(), tz=TZ, summary="Se ha reparado el perfil de Outlook.",
        methods=["phone", "remote"], reopen_until=until,
    )  # fmt: skip
    assert "resuelta" in subject
    assert "Se ha reparado el perfil de Outlook." in text
    assert "mediante asistencia telefónica y control remoto." in text
    assert (
        "reabramos el caso hasta el lunes, 30 de noviembre de 2026, 10:00 (hora de Madrid)" in text
    )
    assert html is not None
    assert "asistencia telefónica y control remoto" in html

    _, text, _ = render(
        "resolution", case=make_case(), tz=TZ, summary="Hecho.", methods=["phone"],
        reopen_until=None,
    )  # fmt: skip
    assert "mediante asistencia telefónica." in text
    assert "hasta el" not in text


def test_team_notification_reads_as_sentences_and_links_where_agents_act() -> None:
    subject, text, html = render(
        "team_notification", case_id="CASE-000001", kind="case_queued",
        message="Caso CASE-000001 en cola", history_url="http://ui/workflows/CASE-000001",
        docs_url="http://api/docs#/cases/get_case_cases__case_id__get",
    )  # fmt: skip
    assert subject == "Nuevo caso en la cola: Caso CASE-000001 en cola"
    assert "case_queued" not in subject + text
    assert text.startswith("Nuevo caso en la cola.\n\nCaso CASE-000001 en cola\n")
    assert "http://ui/workflows/CASE-000001" in text
    assert "http://api/docs#/cases/get_case_cases__case_id__get" in text
    assert html is None


def test_render_rejects_unknown_kind_and_missing_context() -> None:
    with pytest.raises(ValueError, match="unknown mail kind"):
        render("spam", case=make_case(), tz=TZ)
    with pytest.raises(jinja2.UndefinedError):
        render("session_link", case=make_case(), tz=TZ)


def test_authorization_text() -> None:
    assert authorization_text(
        "Lucía Núñez", "Marta Gil", "control", "CASE-000001", "Revisar Outlook", 8.0
    ) == (
        "Yo, Lucía Núñez, autorizo a Marta Gil de amger:pro a acceder a mi equipo en modo "
        "control remoto para atender el caso CASE-000001 (Revisar Outlook). La autorización "
        "vale durante 8 horas desde este momento: en ese tiempo el técnico puede iniciar una o "
        "varias sesiones sin volver a pedírmelo, y se me avisa por correo de cada una. No se "
        "instala ningún programa en mi equipo. Puedo revocar la autorización en cualquier "
        "momento desde esta página o desde el enlace de cada sesión; al revocarla termina "
        "también la sesión en curso."
    )
    view = authorization_text("Ana", "Marta", "view", "CASE-2", "Ver\nel error", 1)
    assert "en modo solo visualización" in view
    assert "(Ver el error)" in view
    assert "vale durante 1 hora desde" in view
    assert [format_hours(h) for h in (0.5, 1.5, 24)] == ["30 minutos", "1,5 horas", "24 horas"]
    with pytest.raises(ValueError, match="unknown remote access"):
        authorization_text("Ana", "Marta", "admin", "CASE-2", "x", 1)
