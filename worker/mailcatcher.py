"""The dev stack's mail server: `python -m worker.mailcatcher`.

It accepts every message over SMTP (127.0.0.1:1025), saves it as an `.eml` file, and
serves a small web page (http://127.0.0.1:8025) that lists the messages and shows their
text with clickable links, so a developer can follow a customer's authorization link
without a real mailbox. SMTP is aiosmtpd's; the page is a Starlette app (`mail_app`)
served by uvicorn, the API's own stack, so no HTTP is parsed here. Dev only: the
production image leaves this module out (see .dockerignore), and only the dev stack and
the tests import it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import logging
import re
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP as SMTPProtocol
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from core.settings import Settings

log = logging.getLogger("mailcatcher")

MAX_LISTED = 500
_NAME = re.compile(r"^[0-9A-Za-z_.-]+\.eml$")  # only names this server wrote: no traversal
_VIEWS = ("text", "html", "raw")
_URL = re.compile(r"https?://[^\s<>\"']+")
_URL_TRAILING = ".,;:!?)]}»"  # sentence punctuation after a link is not part of it
# A captured mail is untrusted input (a customer's name, a summary): the page may not run
# scripts or load anything, and the mail's own HTML is shown in a sandbox on top of that.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
_STYLE = (
    "body{font-family:system-ui,Arial,sans-serif;margin:16px;color:#1f2933}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:6px 8px;"
    "border-bottom:1px solid #d9dde3;vertical-align:top}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:12px}"
)


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


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _date_text(msg: EmailMessage) -> str:
    header = msg["Date"]
    when = getattr(header, "datetime", None)
    return f"{when:%Y-%m-%d %H:%M:%S %z}" if isinstance(when, datetime) else str(header or "")


def _listing(folder: Path) -> Response:
    files = sorted(folder.glob("*.eml"), reverse=True)[:MAX_LISTED]
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
        "<table><tr><th>Fecha</th><th>Para</th><th>Asunto</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p>Todavía no ha llegado ningún correo.</p>"
    )
    return HTMLResponse(
        _page("Correos capturados", f"<h1>Correos capturados ({len(files)})</h1>{table}")
    )


def _message(file: Path, view: str) -> Response:
    raw = file.read_bytes()
    if view == "raw":
        return PlainTextResponse(raw)
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    html_part = msg.get_body(preferencelist=("html",))
    if view == "html":
        if html_part is None:
            return PlainTextResponse("Sin parte HTML.", status_code=404)
        # The mail's own HTML, sandboxed: it may not run scripts or load anything.
        return HTMLResponse(
            html_part.get_content(), headers={"Content-Security-Policy": f"{_CSP}; sandbox"}
        )
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
    return HTMLResponse(_page(str(msg["Subject"] or file.name), body))


async def _not_found_or_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    if exc.status_code == 404:
        return HTMLResponse(_page("No encontrado", "<p>No encontrado.</p>"), status_code=404)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def _hardening_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    # On every answer, errors included; a view that sets its own CSP keeps it.
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def mail_app(folder: Path) -> Starlette:
    """The web page over `folder`: the listing at `/`, a message at `/message/<file>`.

    A message also has `/html` (its own HTML part, sandboxed) and `/raw` (the `.eml`).
    Only GET and HEAD; the views read files, so Starlette runs them in its thread pool.
    """

    def listing(request: Request) -> Response:
        return _listing(folder)

    def message(request: Request) -> Response:
        name: str = request.path_params["name"]
        view: str = request.path_params.get("view", "text")
        if not _NAME.match(name) or view not in _VIEWS or not (folder / name).is_file():
            raise HTTPException(status_code=404)
        return _message(folder / name, view)

    return Starlette(
        routes=[
            Route("/", listing),
            Route("/index.html", listing),
            Route("/message/{name}", message),
            Route("/message/{name}/{view}", message),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=_hardening_headers)],
        exception_handlers={HTTPException: _not_found_or_error},
    )


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: whoever runs the catcher owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class MailCatcher:
    """SMTP catcher plus web listing. Port 0 picks a free port; read the ports after start."""

    def __init__(
        self, folder: Path, host: str = "127.0.0.1", smtp_port: int = 1025, http_port: int = 8025
    ) -> None:
        self.folder = folder
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self._smtp: asyncio.Server | None = None
        self._http: tuple[uvicorn.Server, asyncio.Task[None]] | None = None

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handler = _SaveHandler(self.folder)
        loop = asyncio.get_running_loop()
        # A fixed hostname skips aiosmtpd's getfqdn(), which can stall on a DNS lookup.
        self._smtp = await loop.create_server(
            lambda: SMTPProtocol(handler, hostname="mailcatcher", enable_SMTPUTF8=True),
            self.host,
            self.smtp_port,
        )
        self.smtp_port = self._smtp.sockets[0].getsockname()[1]
        try:
            await self._start_http()
        except BaseException:
            await self.stop()
            raise

    async def _start_http(self) -> None:
        # The socket is bound here, not by uvicorn: a taken port raises OSError to the
        # caller (uvicorn would exit the process), and port 0 is known at once.
        sock = socket.create_server((self.host, self.http_port))
        self.http_port = sock.getsockname()[1]
        config = uvicorn.Config(
            mail_app(self.folder),
            lifespan="off",
            ws="none",
            log_config=None,  # the process's logging, as configured by its owner
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=2,
        )
        server = _Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self._http = (server, task)
        while not server.started:
            if task.done():
                sock.close()
                task.result()  # raises what stopped it
                raise RuntimeError("the mail catcher's web server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        http, self._http = self._http, None
        smtp, self._smtp = self._smtp, None
        if http is not None:
            server, task = http
            server.should_exit = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, timeout=5)
        if smtp is not None:
            smtp.close()
            # From Python 3.12 wait_closed() also waits for idle clients; do not hang on them.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(smtp.wait_closed(), timeout=2)

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
