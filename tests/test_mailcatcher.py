"""The dev mail catcher: its web page as an ASGI app, the servers, and the command."""

from __future__ import annotations

import asyncio
import signal
import smtplib
import socket
import sys
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.stack import free_port
from worker.mailcatcher import MailCatcher, linkify, mail_app

LINK = "https://soporte.amger.pro/autorizacion/AbC-123_xyz?origen=correo&paso=1"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def mail(subject: str, to: str = "lucia@example.com", html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "soporte@amger.pro"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Wed, 25 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = "<m-1@amger.pro>"
    msg.set_content(f"Hola, Lucía:\n\nAutorice el acceso aquí: {LINK}.\n")
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def save(folder: Path, name: str, msg: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / name
    file.write_bytes(bytes(msg))
    return file


def saved(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


def client(folder: Path) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=mail_app(folder))
    return httpx.AsyncClient(transport=transport, base_url="http://catcher")


def assert_hardened(response: httpx.Response, csp: str = CSP) -> None:
    assert response.headers["content-security-policy"] == csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_listing_empty_then_newest_first_and_escaped(tmp_path: Path) -> None:
    async with client(tmp_path) as http:
        empty = await http.get("/")
        assert empty.status_code == 200
        assert "Todavía no ha llegado ningún correo." in empty.text
        assert_hardened(empty)

        save(tmp_path, "20261125T090000000000Z-aaaaaaaa.eml", mail("Primero"))
        save(tmp_path, "20261125T100000000000Z-bbbbbbbb.eml", mail("<b>Segundo</b>", "ana@x.es"))
        (tmp_path / "20261125T110000000000Z-cccccccc.part").write_bytes(b"half written")
        listing = await http.get("/")
        assert listing.headers["content-type"] == "text/html; charset=utf-8"
        assert "Correos capturados (2)" in listing.text
        assert listing.text.index("&lt;b&gt;Segundo&lt;/b&gt;") < listing.text.index("Primero")
        assert "<b>Segundo" not in listing.text
        assert 'href="/message/20261125T090000000000Z-aaaaaaaa.eml"' in listing.text
        assert "ana@x.es" in listing.text
        assert "2026-11-25 10:00:00 +0100" in listing.text
        assert (await http.get("/index.html")).text == listing.text


async def test_message_text_html_and_raw(tmp_path: Path) -> None:
    html = "<p>Pulse <a href='https://x.test'>aquí</a></p><script>alert(1)</script>"
    file = save(tmp_path, "20261125T090000000000Z-aaaaaaaa.eml", mail("Autorización", html=html))
    async with client(tmp_path) as http:
        shown = await http.get(f"/message/{file.name}")
        assert shown.status_code == 200
        assert_hardened(shown)
        assert f'<a href="{LINK.replace("&", "&amp;")}">' in shown.text  # the final "." is not
        assert "<title>Autorización</title>" in shown.text
        assert "&lt;m-1@amger.pro&gt;" in shown.text
        assert f'href="/message/{file.name}/html"' in shown.text
        assert f'href="/message/{file.name}/raw"' in shown.text
        assert (await http.get(f"/message/{file.name}/text")).text == shown.text

        own = await http.get(f"/message/{file.name}/html")
        assert own.status_code == 200
        assert own.text.replace("\r\n", "\n") == html + "\n"
        assert_hardened(own, csp=f"{CSP}; sandbox")  # the mail's scripts never run

        raw = await http.get(f"/message/{file.name}/raw")
        assert raw.headers["content-type"] == "text/plain; charset=utf-8"
        assert raw.content == file.read_bytes()
        assert_hardened(raw)


async def test_a_text_only_message_has_no_html_view(tmp_path: Path) -> None:
    file = save(tmp_path, "20261125T090000000000Z-aaaaaaaa.eml", mail("Solo texto"))
    async with client(tmp_path) as http:
        shown = await http.get(f"/message/{file.name}")
        assert f'href="/message/{file.name}/html"' not in shown.text
        missing = await http.get(f"/message/{file.name}/html")
        assert missing.status_code == 404
        assert missing.text == "Sin parte HTML."


@pytest.mark.parametrize(
    "path",
    [
        "/message/nothing.eml",
        "/message/..%2Fsecret.eml",
        "/message/../secret.eml",
        "/message/secret.txt",
        "/message/20261125T090000000000Z-aaaaaaaa.eml/source",
        "/message/20261125T090000000000Z-aaaaaaaa.eml/raw/more",
        "/other",
    ],
)
async def test_anything_else_is_a_spanish_404(tmp_path: Path, path: str) -> None:
    save(tmp_path, "20261125T090000000000Z-aaaaaaaa.eml", mail("Hola"))
    (tmp_path.parent / "secret.eml").write_bytes(b"not for the page")
    (tmp_path / "secret.txt").write_bytes(b"not a mail")
    async with client(tmp_path) as http:
        response = await http.get(path)
    assert response.status_code == 404
    assert "No encontrado." in response.text
    assert "not for the page" not in response.text
    assert_hardened(response)


async def test_only_reads(tmp_path: Path) -> None:
    async with client(tmp_path) as http:
        response = await http.post("/", content=b"x")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert_hardened(response)


def test_linkify_escapes_text_and_links() -> None:
    out = linkify('Pulse <aquí>: https://x.test/a?b=1&c="2". Fin & gracias')
    assert out == (
        'Pulse &lt;aquí&gt;: <a href="https://x.test/a?b=1&amp;c=">https://x.test/a?b=1&amp;c=</a>'
        "&quot;2&quot;. Fin &amp; gracias"
    )


def send(port: int, msg: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


async def test_catcher_saves_over_smtp_serves_over_http_and_stops(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    async with MailCatcher(folder, smtp_port=0, http_port=0) as catcher:
        assert catcher.smtp_port != 0
        assert catcher.http_port != 0
        await asyncio.to_thread(send, catcher.smtp_port, mail("Caso CASE-000001 ñ"))
        [eml] = saved(folder)
        assert b"Subject: Caso CASE-000001" in eml.read_bytes()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{catcher.http_port}") as http:
            listing = await http.get("/")
            assert "Caso CASE-000001 ñ" in listing.text
            assert "server" not in listing.headers
            head = await http.head(f"/message/{eml.name}")
            assert head.status_code == 200
            assert head.content == b""
            assert int(head.headers["content-length"]) > 0
    for port in (catcher.smtp_port, catcher.http_port):
        with pytest.raises(ConnectionRefusedError):  # stopped: nothing listens any more
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


async def test_a_taken_web_port_fails_the_start_and_frees_smtp(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        catcher = MailCatcher(tmp_path, smtp_port=0, http_port=taken.getsockname()[1])
        with pytest.raises(OSError, match="in use"):
            await catcher.start()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", catcher.smtp_port), timeout=1).close()


async def test_the_command_the_dev_stack_runs_stops_on_sigterm(tmp_path: Path) -> None:
    smtp_port, http_port = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "worker.mailcatcher", "--folder", str(tmp_path)),
        *("--smtp-port", str(smtp_port), "--http-port", str(http_port)),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None

        async def started() -> None:
            assert proc.stderr is not None
            while b"SMTP on" not in (line := await proc.stderr.readline()):
                assert line, "the mail catcher exited before it listened"

        await asyncio.wait_for(started(), timeout=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
            assert (await http.get("/")).status_code == 200
        await asyncio.to_thread(send, smtp_port, mail("Por la línea de órdenes"))
        assert len(saved(tmp_path)) == 1
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
