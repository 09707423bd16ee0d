"""Server-rendered pages for customers (Spanish, `api/templates/`)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

# Paths a customer opens from an email: their errors are pages, not JSON.
CUSTOMER_PREFIXES = ("/autorizacion/", "/sesion-remota/")


@lru_cache(maxsize=1)
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(resources.files("api") / "templates"))


# The URL carries the customer's secret: never cache it, never leak it as a referrer,
# and never let another site frame the Autorizar button (clickjacking).
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


def page(request: Request, name: str, code: int = 200, /, **context: Any) -> HTMLResponse:
    response: HTMLResponse = _templates().TemplateResponse(
        request, name, context, status_code=code, headers=_HEADERS
    )
    return response


def gone(request: Request, code: int = 404) -> HTMLResponse:
    return page(
        request,
        "notice.html",
        code,
        title="Enlace no disponible",
        message="Este enlace no es válido o ya no está disponible. Si necesita "
        "ayuda, responda al correo de amger:pro o llame a soporte.",
    )


def unavailable(request: Request) -> HTMLResponse:
    return page(
        request,
        "notice.html",
        503,
        title="Servicio no disponible en este momento",
        # The decision may have reached the case before the failure: never say that
        # nothing changed, send the customer back to the page, which shows the state.
        message="No hemos podido confirmar su respuesta en este momento. Puede que ya se "
        "haya registrado: abra de nuevo el mismo enlace en unos minutos y verá el estado "
        "de la autorización.",
    )


def too_large(request: Request) -> HTMLResponse:
    """The answer to a form body over its cap (api.limits): nothing was read or done."""
    return page(
        request,
        "notice.html",
        413,
        title="Solicitud demasiado grande",
        message="Los datos enviados superan el tamaño permitido y no se han procesado; "
        "no se ha cambiado nada. Vuelva a abrir el enlace del correo e inténtelo de nuevo.",
    )
