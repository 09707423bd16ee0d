"""Caps on request bodies, enforced before a body is read whole and before any route runs.

Authentication is a route dependency, so a client without an API key (or a customer
link with a made-up token) could otherwise make the server read, and FastAPI buffer,
any amount of data. This is a pure ASGI middleware, not `BaseHTTPMiddleware`, because
that one wraps the body in its own streams; here every chunk is counted as the server
hands it over, and no more than the cap plus one chunk is ever held.

- A declared `Content-Length` over the cap is answered 413 at once: the app is never
  called and the body is never read.
- A chunked body (no length) is read here, before the app, until it ends or passes the
  cap: 413 as soon as it does, whatever the route would have checked first (its key, a
  token in the database, Temporal); a body within the cap is handed on unchanged.
- A length that lies (more data than declared) cannot reach an app behind uvicorn,
  which reads exactly what is declared; should a server ever pass more, the chunk over
  the cap makes `receive()` raise, the app's answer is dropped and the 413 sent instead.
- Every refusal closes the connection (`Connection: close`), so the server does not
  read and discard the rest of a 100 MB upload just to keep the connection alive.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import pages

# The largest legitimate JSON body, an intake with a 20,000-character description, is
# about 25 KB of Spanish text (more only if most characters are sent as \u escapes);
# the customer's forms send one short field (`decision=autorizar`).
JSON_MAX_BYTES = 64 * 1024
FORM_MAX_BYTES = 2 * 1024


class BodyTooLarge(Exception):
    """Raised from `receive()` when the body passes its cap; the middleware answers."""


def _declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when absent or unreadable (then counting
    alone enforces the cap). Several headers: the largest, to be safe."""
    lengths = [v for k, v in scope["headers"] if k == b"content-length"]
    try:
        return max(int(v) for v in lengths) if lengths else None
    except ValueError:
        return None


def _chunked(scope: Scope) -> bool:
    # An HTTP/1.1 request with neither Content-Length nor Transfer-Encoding has no body.
    return any(k == b"transfer-encoding" for k, _ in scope["headers"])


async def _prefetch(receive: Receive, cap: int) -> list[Message] | None:
    """The server's messages for a whole body of unknown length, or None as soon as it
    passes `cap` (the rest is never read)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client left: the app will hear it in turn
        size += len(message.get("body", b""))
        if size > cap:
            return None
        if not message.get("more_body", False):
            return messages


class BodyLimit:
    """At most `json_max_bytes` of body on the API, `form_max_bytes` on the paths that
    start with one of `form_prefixes` (the customer's pages, whose refusal is a page)."""

    def __init__(
        self,
        app: ASGIApp,
        json_max_bytes: int = JSON_MAX_BYTES,
        form_max_bytes: int = FORM_MAX_BYTES,
        form_prefixes: tuple[str, ...] = pages.CUSTOMER_PREFIXES,
    ) -> None:
        self.app = app
        self.json_max_bytes = json_max_bytes
        self.form_max_bytes = form_max_bytes
        self.form_prefixes = form_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 before the app sees a body over its cap; hand on everything else as is."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self._cap(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > cap:
            await self._refuse(scope, send, cap)
            return
        early: list[Message] = []
        if declared is None and _chunked(scope):
            prefetched = await _prefetch(receive, cap)
            if prefetched is None:
                await self._refuse(scope, send, cap)
                return
            early = prefetched

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = early.pop(0) if early else await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    exceeded = True
                    raise BodyTooLarge(f"request body over {cap} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to the broken-off body; the 413 replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # Routes and FastAPI wrap errors from reading the body in their own (a 400,
            # an exception group): once the cap is passed, any of them means "too large".
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, send, cap)
        # Passed after the response started (an app that streams while it reads): the
        # answer cannot change any more; the server closes the unfinished response.

    def _cap(self, scope: Scope) -> int:
        customer = str(scope["path"]).startswith(self.form_prefixes)
        return self.form_max_bytes if customer else self.json_max_bytes

    async def _refuse(self, scope: Scope, send: Send, cap: int) -> None:
        response: Response
        if str(scope["path"]).startswith(self.form_prefixes):
            response = pages.too_large(Request(scope))
        else:
            detail = f"request body too large: at most {cap} bytes"
            response = JSONResponse({"detail": detail}, 413)
        response.headers["Connection"] = "close"
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    # A refusal never reads the body; a response that tried would be a bug here.
    raise RuntimeError("a 413 answer does not read the request body")
