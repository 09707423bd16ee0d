"""The dev stack's mail server: `python -m worker.mailcatcher`.

It accepts every message over SMTP (127.0.0.1:1025), saves it as an `.eml` file, and
serves a small web page (http://127.0.0.1:8025) that lists the messages and shows their
text with clickable links, so a developer can follow a customer's authorization link
without a real mailbox. Standard library plus aiosmtpd only; it is never deployed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import logging
import re
import signal
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from aiosmtpd.smtp import SMTP as SMTPProtocol

from core.settings import Settings

log = logging.getLogger("mailcatcher")

MAX_LISTED = 500
_NAME = re.compile(r"^[0-9A-Za-z_.-]+\.eml$")  # only names this server wrote: no traversal
_URL = re.compile(r"https?://[^\s<>\"']+")
_URL_TRAILING = ".,;:!?)]}»"  # sentence punctuation after a link is not part of it
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
_STYLE = (
    "body{font-family:system-ui,Arial,sans-serif;margin:16px;color:#1f2933}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:6px 8px;"
    "border-bottom:1px solid #d9dde3;vertical-align:top}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:12px}"
)

Response = tuple[str, str, bytes, str]  # status, content type, body, Content-Security-Policy


class _SaveHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any
    ) -> str:  # aiosmtpd hook name
        # A timestamp prefix makes file names sort in arrival order.
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        data: bytes = envelope.original_content or envelope.content
        await asyncio.to_thread(_write_atomically, self.folder / name, data)
        log.info("saved %s for %s", name, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _write_atomically(path: Path, data: bytes) -> None:
    # The web page lists `*.eml`; a rename keeps it from reading a half-written file.
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def linkify(text: str) -> str:
    """HTML-escape `text` and turn http(s) URLs into links."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING)
        if not url:
            continue
        out.append(html.escape(text[pos : match.start()]))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        pos = match.start() + len(url)
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _page(title: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    ).encode()


def _date_text(msg: EmailMessage) -> str:
    header = msg["Date"]
    when = getattr(header, "datetime", None)
    return f"{when:%Y-%m-%d %H:%M:%S %z}" if isinstance(when, datetime) else str(header or "")


class MailCatcher:
    """SMTP catcher plus web listing. Port 0 picks a free port; read the ports after start."""

    def __init__(
        self, folder: Path, host: str = "127.0.0.1", smtp_port: int = 1025, http_port: int = 8025
    ) -> None:
        self.folder = folder
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self._servers: list[asyncio.Server] = []

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handler = _SaveHandler(self.folder)
        loop = asyncio.get_running_loop()
        # A fixed hostname skips aiosmtpd's getfqdn(), which can stall on a DNS lookup.
        smtp = await loop.create_server(
            lambda: SMTPProtocol(handler, hostname="mailcatcher", enable_SMTPUTF8=True),
            self.host,
            self.smtp_port,
        )
        http = await asyncio.start_server(self._handle_http, self.host, self.http_port)
        self._servers = [smtp, http]
        self.smtp_port = smtp.sockets[0].getsockname()[1]
        self.http_port = http.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for server in servers:
            # From Python 3.12 wait_closed() also waits for idle clients; do not hang on them.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=2)

    async def __aenter__(self) -> MailCatcher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle_http(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=10)
            while await asyncio.wait_for(reader.readline(), timeout=10) not in (
                b"\r\n",
                b"\n",
                b"",
            ):
                pass  # headers are not needed
            parts = request.decode("latin-1").split()
            if not parts:
                return  # the client closed without asking anything
            if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
                status, ctype, body, csp = "405 Method Not Allowed", "text/plain", b"", _CSP
            else:
                path = unquote(parts[1].split("?", 1)[0])
                status, ctype, body, csp = await asyncio.to_thread(self._route, path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nContent-Security-Policy: {csp}\r\n"
                "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + (b"" if parts[0] == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError):
            pass  # a slow, broken or oversized request just loses its connection
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _route(self, path: str) -> Response:
        if path in ("/", "/index.html"):
            return "200 OK", "text/html", self._listing(), _CSP
        parts = path.strip("/").split("/")
        if len(parts) in (2, 3) and parts[0] == "message" and _NAME.match(parts[1]):
            file = self.folder / parts[1]
            view = parts[2] if len(parts) == 3 else "text"
            if file.is_file() and view in ("text", "html", "raw"):
                return self._message(file, view)
        return "404 Not Found", "text/html", _page("No encontrado", "<p>No encontrado.</p>"), _CSP

    def _listing(self) -> bytes:
        files = sorted(self.folder.glob("*.eml"), reverse=True)[:MAX_LISTED]
        rows = []
        for file in files:
            with file.open("rb") as fh:
                msg = BytesParser(policy=policy.default).parse(fh, headersonly=True)
            assert isinstance(msg, EmailMessage)  # policy.default builds EmailMessage
            rows.append(
                f"<tr><td>{html.escape(_date_text(msg))}</td>"
                f"<td>{html.escape(str(msg['To'] or ''))}</td>"
                f'<td><a href="/message/{file.name}">'
                f"{html.escape(str(msg['Subject'] or '(sin asunto)'))}</a></td></tr>"
            )
        table = (
            "<table><tr><th>Fecha</th><th>Para</th><th>Asunto</th></tr>"
            + "".join(rows)
            + "</table>"
            if rows
            else "<p>Todavía no ha llegado ningún correo.</p>"
        )
        return _page("Correos capturados", f"<h1>Correos capturados ({len(files)})</h1>{table}")

    def _message(self, file: Path, view: str) -> Response:
        raw = file.read_bytes()
        if view == "raw":
            return "200 OK", "text/plain", raw, _CSP
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        html_part = msg.get_body(preferencelist=("html",))
        if view == "html":
            if html_part is None:
                return "404 Not Found", "text/plain", b"Sin parte HTML.", _CSP
            # The mail's own HTML, sandboxed: it may not run scripts or load anything.
            return "200 OK", "text/html", html_part.get_content().encode(), _CSP + "; sandbox"
        text_part = msg.get_body(preferencelist=("plain",))
        text = text_part.get_content() if text_part is not None else "(sin texto)"
        meta = "".join(
            f"<tr><th>{name}</th><td>{html.escape(str(msg[name] or ''))}</td></tr>"
            for name in ("Date", "From", "To", "Subject", "Message-ID")
        )
        other = f'<a href="/message/{file.name}/raw">.eml</a>'
        if html_part is not None:
            other = f'<a href="/message/{file.name}/html">HTML</a> · {other}'
        body = (
            f'<p><a href="/">« Todos los correos</a> · {other}</p>'
            f"<table>{meta}</table><pre>{linkify(text)}</pre>"
        )
        return "200 OK", "text/html", _page(str(msg["Subject"] or file.name), body), _CSP


async def serve(
    smtp_port: int = 1025,
    http_port: int = 8025,
    folder: Path = Path("data/mail"),
    host: str = "127.0.0.1",
) -> None:
    """Run until SIGINT or SIGTERM, then close both servers."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with MailCatcher(folder, host, smtp_port, http_port) as catcher:
            log.info(
                "SMTP on %s:%d, messages on http://%s:%d/ (saved in %s)",
                host, catcher.smtp_port, host, catcher.http_port, folder,
            )  # fmt: skip
            await stop.wait()
            log.info("stopping")
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m worker.mailcatcher", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--folder", type=Path, help="default: $DATA_DIR/mail")
    args = parser.parse_args(argv)
    folder: Path = args.folder or Settings().data_dir / "mail"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.smtp_port, args.http_port, folder, args.host))


if __name__ == "__main__":
    main()
