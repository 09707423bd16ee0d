"""Every status a route can answer, for the routes' `responses=`: one error model
(`api.schemas.ErrorOut`, what `api.errors` returns) with an example for each status.

Which statuses a route answers follows from what it does: every route with a key can
answer 401 and 403, and 503 when PostgreSQL (where keys live) cannot be reached; a body
can be unparseable (400), too large (413) or invalid (422); a case can be unknown (404)
or in a stage that refuses the action (409).
"""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorOut

Responses = dict[int | str, dict[str, Any]]

_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "The body is not JSON (or not a form the server can read)",
        {
            "detail": "the body is not valid JSON (at character 1)",
            "errors": [{"field": "body", "message": "not valid JSON (at character 1)"}],
        },
    ),
    401: (
        "No API key, or one that is unknown or revoked (with `WWW-Authenticate: Bearer`)",
        {"detail": "missing API key (Authorization: Bearer <key>)"},
    ),
    403: (
        "The key's role may not do this",
        {"detail": "this action needs one of the roles: agent, supervisor"},
    ),
    404: (
        "No such case (or not one the caller may read)",
        {
            "detail": "case CASE-000123 not found",
            "case_id": "CASE-000123",
        },
    ),
    409: (
        "The case's stage does not allow the action (with what it allows), a `request_id` "
        "or `Idempotency-Key` already used with another body, or a limit of the case reached",
        {
            "detail": "action 'close' is not allowed in stage 'contacto'",
            "stage": "contacto",
            "allowed_actions": ["contact", "request_remote_access", "resolve", "cancel"],
        },
    ),
    413: (
        "The body is over 64 KiB; it was not read",
        {"detail": "request body too large: at most 65536 bytes"},
    ),
    422: (
        "A parameter or a field of the body is invalid: `errors` names each",
        {
            "detail": "invalid request: body.customer.email",
            "errors": [
                {
                    "field": "body.customer.email",
                    "message": "Value error, not an address we can send mail to",
                }
            ],
        },
    ),
    503: (
        "PostgreSQL or Temporal cannot be reached, or no worker took the action in time: "
        "nothing was changed unless the action is later taken (retry with the same "
        "`request_id`); with `Retry-After`",
        {"detail": "Temporal is unreachable; retry later"},
    ),
}


def errors(*codes: int) -> Responses:
    """The documented error answers `codes`, each with the error model and an example."""
    return {
        code: {
            "model": ErrorOut,
            "description": _ERRORS[code][0],
            "content": {"application/json": {"example": _ERRORS[code][1]}},
        }
        for code in codes
    }


# What each kind of route answers besides its success.
KEYED = (401, 403, 503)
READ = (*KEYED, 422)
READ_CASE = (*READ, 404)
ACTION = (400, *READ_CASE, 409, 413)
INTAKE = (400, *READ, 409, 413)


def html(description: str) -> dict[str, Any]:
    """A customer's page (Spanish HTML)."""
    page = {"schema": {"type": "string"}, "example": '<!doctype html><html lang="es">…</html>'}
    return {"description": description, "content": {"text/html": page}}


# The customer's pages: every answer is a page, never JSON; a form post answers 303 to
# the page itself, so a reload never posts again.
CUSTOMER_PAGE: Responses = {
    200: html("The page: what the case records, and the buttons that apply now"),
    404: html("An unknown, used up or mistyped link: a page that says so"),
    503: html("The service cannot answer now: a page that says so"),
}
CUSTOMER_POST: Responses = {
    303: {
        "description": "Done, already done or refused: back to the page, with "
        "`?respuesta=…&resultado=hecho|ya|no`",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "the page"}},
    },
    400: html("A form without a decision the page offers: a page that says so"),
    404: CUSTOMER_PAGE[404],
    413: html("A form over 2 KiB; it was not read"),
    503: CUSTOMER_PAGE[503],
}


def decision_form(decisions: list[str]) -> dict[str, Any]:
    """The form a customer's page posts: one of the page's buttons."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"decision": {"type": "string", "enum": decisions}},
                        "required": ["decision"],
                    },
                    "example": {"decision": decisions[0]},
                }
            },
        }
    }


# Where an intake's answer leads: its `case_id` is the path parameter of the case's own
# operations (clients and schemathesis' stateful phase follow these links).
CASE_LINKS = {
    name: {"operationId": name, "parameters": {"case_id": "$response.body#/case_id"}}
    for name in (
        "get_case",
        "case_events",
        "case_notifications",
        "case_history",
        "log_contact",
        "request_remote_access",
        "resolve",
        "change_severity",
        "change_plan",
        "cancel",
    )
}
