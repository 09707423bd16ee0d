"""Log lines of the API and the worker: one JSON object a line, or readable text.

Everything logs through the standard library (this code, uvicorn, the Temporal SDK,
psycopg), so one handler on the root logger formats every line, and python-json-logger
turns a record into JSON with whatever fields it carries. Two context variables say
what a line concerns, so that no call site has to pass them along:

- `REQUEST_ID`: the API's X-Request-ID (`api.logs`), which `core.interceptors` carries
  through Temporal headers into the activities that deliver the request's effects;
- `CASE_ID`: set by the API for routes under /cases/{case_id} and by the activity
  interceptor; lines logged by the Temporal SDK's workflow and activity loggers also
  name their workflow, which for a case workflow is the case id.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import IO, Literal

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
CASE_ID: ContextVar[str | None] = ContextVar("case_id", default=None)
# The case workflow's type: its workflow id is the case id (see workflows/case.py).
CASE_WORKFLOW = "CaseWorkflow"
_HANDLER = "amger-support"
_TEMPORAL_EXTRAS = ("temporal_workflow", "temporal_activity")
# uvicorn's own access line knows no request id; api.logs writes one that does.
_SILENCED = ("uvicorn.access",)
# uvicorn's loggers come with handlers of their own; ours format their lines instead.
_ADOPTED = ("uvicorn", "uvicorn.error")

LogFormat = Literal["text", "json"]
# What a text line shows in brackets, when the record has it.
_TAGS = ("case_id", "request_id", "workflow_id")


class ContextFields(logging.Filter):
    """Adds `case_id`, `request_id` and, for other workflows, `workflow_id` to a record.

    On the handler, not on loggers: a logger's filter sees only its own records, while
    the handler sees every record that reaches it, whichever library logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = vars(record)
        case_id, request_id = CASE_ID.get(), REQUEST_ID.get()
        for extra in _TEMPORAL_EXTRAS:
            temporal = fields.get(extra)
            if isinstance(temporal, dict):
                if temporal.get("workflow_type") == CASE_WORKFLOW:
                    case_id = case_id or temporal.get("workflow_id")
                else:
                    fields.setdefault("workflow_id", temporal.get("workflow_id"))
        if case_id:
            fields.setdefault("case_id", case_id)
        if request_id:
            fields.setdefault("request_id", request_id)
        return True


class TextFormatter(logging.Formatter):
    """`time level logger [case_id=… request_id=…]: message`, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(tags)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = vars(record)
        tags = [f"{k}={fields[k]}" for k in _TAGS if fields.get(k)]
        record.tags = f" [{' '.join(tags)}]" if tags else ""
        return super().format(record)


def formatter(kind: LogFormat) -> logging.Formatter:
    if kind == "text":
        return TextFormatter()
    # `time` in ISO 8601 UTC; every extra a record carries (case_id, request_id, the
    # SDK's temporal_activity, an access line's route and status) becomes a field.
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def configure(
    kind: LogFormat, level: str = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log line of this process through one handler of `kind`. Calling it
    again replaces that handler (not the others: a test runner's stay)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER)
    handler.setFormatter(formatter(kind))
    handler.addFilter(ContextFields())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _ADOPTED:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in _SILENCED:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = False  # uvicorn then skips the line (hasHandlers() is False)
    _temporal_context_as_fields()
    return handler


def _temporal_context_as_fields() -> None:
    """The SDK appends its workflow/activity details to the message text too; they are
    fields here (`temporal_workflow`, `temporal_activity`), so the text stays readable."""
    from temporalio import activity, workflow

    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
