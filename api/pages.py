"""Server-rendered pages for customers (Spanish, `api/templates/`)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from core.mail import DEFAULT_SUPPORT, Support, add_filters

# Paths a customer opens from an email: their errors are pages, not JSON.
CUSTOMER_PREFIXES = ("/autorizacion/", "/sesion-remota/")


def for_customer(path: str) -> bool:
    """Any address under the customer's pages, the bare prefix included."""
    return path.startswith(CUSTOMER_PREFIXES) or path in {p[:-1] for p in CUSTOMER_PREFIXES}


@lru_cache(maxsize=1)
def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(resources.files("api") / "templates"))
    add_filters(templates.env)
    return templates


def render(name: str, **context: Any) -> str:
    """A page as HTML, without a request (the accessibility test renders every state)."""
    return _templates().get_template(name).render(context)


def _support(request: Request) -> Support:
    # Pages may be answered before the lifespan set the services up (a body refused by
    # the size limit): the defaults still tell the customer how to reach us.
    app = request.scope.get("app")
    services = getattr(getattr(app, "state", None), "services", None)
    return DEFAULT_SUPPORT if services is None else Support.of(services.settings)


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
    """A customer's page, with the headers that keep its token out of caches and referrers."""
    context.setdefault("support", _support(request))
    response: HTMLResponse = _templates().TemplateResponse(
        request, name, context, status_code=code, headers=_HEADERS
    )
    return response


def see(url: str) -> RedirectResponse:
    """303 to the GET page after a form post: a reload then reads, never posts again."""
    return RedirectResponse(url, status_code=303, headers=_HEADERS)


def gone(request: Request, code: int = 404) -> HTMLResponse:
    """One page for every bad link or form: it never says what was wrong, only how to reach us."""
    return page(
        request,
        "notice.html",
        code,
        title="Enlace no disponible",
        message="Este enlace no es válido o ya no está disponible. Compruebe que ha copiado "
        "la dirección completa del correo; si aun así no funciona, llámenos o escríbanos "
        "(los datos están al pie de esta página).",
    )


def unavailable(request: Request) -> HTMLResponse:
    """503 for a customer, sent back to the link: their decision may have reached the case."""
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
