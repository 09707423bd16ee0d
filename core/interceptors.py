"""A request id that follows an HTTP request into the activities that deliver its effects.

The API names each request (`api.logs`: X-Request-ID, accepted or generated). Its
Temporal client puts that id in the Temporal headers of the starts and updates it
sends (`RequestIdClient`); the case workflow's inputs and answers do not change.

A case's effects leave through its delivery lanes, often after the update that made
them has returned, so the worker's workflow interceptor keeps track of which request
made which entry of the lanes: an entry that appears while an update runs is that
update's; one that appears at registration is the start's; one a deadline makes has
none. When a lane starts the activity for an entry, the entry's request ids go into
the activity's headers, and the activity interceptor puts them, with the case id, on
every log line the activity writes (`core.logs`), plus one line per attempt.

Only the headers carry the id: an update's accepted event and each scheduled activity
of a request gain about 60 bytes of history; Temporal's determinism checks ignore
headers, so histories recorded with or without them replay either way.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from temporalio import activity, client, workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleUpdateInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from core.logs import CASE_ID, CASE_WORKFLOW, REQUEST_ID
from workflows.messages import CustomerMail, ProjectionBatch, TeamNotification

HEADER = "request-id"
# Several requests' entries may leave in one projection batch: their ids, comma-joined.
_MAX_HEADER_CHARS = 400
log = logging.getLogger("worker.activity")

Headers = Mapping[str, Payload]
Key = tuple[str, str]


def with_request_id(headers: Headers, request_id: str | None) -> Headers:
    if not request_id:
        return headers
    return {**headers, HEADER: PayloadConverter.default.to_payload(request_id)}


def request_id_of(headers: Headers) -> str | None:
    payload = headers.get(HEADER)
    if payload is None:
        return None
    try:
        value = PayloadConverter.default.from_payload(payload, str)
    except Exception:  # a header someone else wrote: not worth failing a task for
        return None
    return value[:_MAX_HEADER_CHARS] if isinstance(value, str) and value else None


# --- Client: the API's starts and updates ---


class RequestIdClient(client.Interceptor):
    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _ClientOutbound(next)


class _ClientOutbound(client.OutboundInterceptor):
    async def start_workflow(self, input: client.StartWorkflowInput) -> Any:
        input.headers = with_request_id(input.headers, REQUEST_ID.get())
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: client.StartWorkflowUpdateInput) -> Any:
        input.headers = with_request_id(input.headers, REQUEST_ID.get())
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: client.StartWorkflowUpdateWithStartInput
    ) -> Any:
        rid = REQUEST_ID.get()
        start, update = input.start_workflow_input, input.update_workflow_input
        if start.workflow == CASE_WORKFLOW and CASE_ID.get() is None:
            # An intake learns its case id here: the rest of the request's lines name it.
            CASE_ID.set(start.id)
        start.headers = with_request_id(start.headers, rid)
        update.headers = with_request_id(update.headers, rid)
        return await super().start_update_with_start_workflow(input)


# --- Worker ---


class RequestIdWorker(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _WorkflowInbound


# An activity started from inside an update handler (version 1 of the case workflow
# delivers before answering) belongs to that update: each handler runs in its own task.
_UPDATE_REQUEST: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "update_request", default=None
)


def _pending_keys() -> set[Key]:
    """The entries waiting in the case workflow's lanes (none for other workflows).
    Read from the instance: the workflow's own code needs no change for this."""
    lanes = getattr(workflow.instance(), "_lanes", None)
    pending = getattr(lanes, "pending", None)
    if pending is None:
        return set()
    keys = {("p", str(c.revision)) for c in pending.projection}
    keys |= {("t", n.notification_id) for n in pending.team}
    keys |= {("c", m.mail_id) for m in pending.customer}
    return keys


def _arg_keys(args: Sequence[Any]) -> list[Key]:
    arg = args[0] if args else None
    if isinstance(arg, ProjectionBatch):
        return [("p", str(c.revision)) for c in arg.changes]
    if isinstance(arg, TeamNotification):
        return [("t", arg.notification_id)]
    if isinstance(arg, CustomerMail):
        return [("c", arg.mail_id)]
    return []


class _Trail:
    """Which request made each entry still in the lanes. Rebuilt by replay (the
    headers are in history), so a worker that picks a case up mid-way knows it too."""

    def __init__(self) -> None:
        self.known: set[Key] = set()
        self.owner: dict[Key, str] = {}
        self.start_request: str | None = None

    def begin(self, start_request: str | None) -> None:
        # Entries carried over by continue-as-new are not this run's requests'.
        self.known = _pending_keys()
        self.start_request = start_request

    def note(self, request: str | None) -> None:
        """Entries that appeared since the last note were made by `request`."""
        keys = _pending_keys()
        if request:
            self.owner |= dict.fromkeys(keys - self.known, request)
        self.known = keys
        self.owner = {k: v for k, v in self.owner.items() if k in keys}  # delivered: gone

    def note_run(self) -> None:
        """What the run made since the last note: the registration, the first time
        (on behalf of the start), deadlines afterwards (on nobody's behalf)."""
        self.note(self.start_request)
        self.start_request = None

    def requests_for(self, args: Sequence[Any]) -> str | None:
        ids = dict.fromkeys(r for k in _arg_keys(args) if (r := self.owner.get(k)))
        return ",".join(ids)[:_MAX_HEADER_CHARS] or None


class _WorkflowInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self.trail = _Trail()
        super().init(_WorkflowOutbound(outbound, self.trail))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        self.trail.begin(request_id_of(input.headers))
        return await super().execute_workflow(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        request = request_id_of(input.headers)
        self.trail.note_run()
        _UPDATE_REQUEST.set(request)
        try:
            return await super().handle_update_handler(input)
        finally:
            self.trail.note(request)


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, trail: _Trail) -> None:
        super().__init__(next)
        self.trail = trail

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        self.trail.note_run()
        request = _UPDATE_REQUEST.get() or self.trail.requests_for(input.args)
        input.headers = with_request_id(input.headers, request)
        return super().start_activity(input)


class _ActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        case_id = info.workflow_id if info.workflow_type == CASE_WORKFLOW else None
        tokens = (CASE_ID.set(case_id), REQUEST_ID.set(request_id_of(input.headers)))
        started = time.monotonic()
        fields: dict[str, object] = {"activity": info.activity_type, "attempt": info.attempt}
        if case_id is None:  # another workflow's activity (the SLA report's mail)
            fields["workflow_id"] = info.workflow_id
        try:
            result = await super().execute_activity(input)
        except Exception as exc:
            # Each failed attempt: Temporal retries it, and whoever reads the log sees why.
            log.warning(
                "activity %s failed (attempt %d): %s",
                info.activity_type,
                info.attempt,
                f"{type(exc).__name__}: {exc}"[:500],
                extra=fields | {"duration_ms": _ms(started), "error": type(exc).__name__},
            )
            raise
        else:
            log.info(
                "activity %s done",
                info.activity_type,
                extra=fields | {"duration_ms": _ms(started)},
            )
            return result
        finally:
            CASE_ID.reset(tokens[0])
            REQUEST_ID.reset(tokens[1])


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
