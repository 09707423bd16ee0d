"""Starting case workflows and sending them updates, with errors turned into API errors."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.common.v1 import Priority as PriorityProto
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflow.v1 import WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionOptionsRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api.deps import Services
from api.errors import ActionRefused, CaseNotFound, Forbidden, Unavailable
from api.schemas import CaseOut, SlaOut
from core.settings import Settings
from workflows.case import CaseWorkflow
from workflows.domain import Plan, Severity
from workflows.messages import ActionResult, CaseInput
from workflows.models import ActionInput, CaseState
from workflows.priority import case_priority, priority_key
from workflows.refusals import (
    ACTION_NOT_ALLOWED,
    CONSENT_NOT_PROVEN,
    CONTINUING_AS_NEW,
    REQUEST_ID_REUSED,
)
from workflows.rules import allowed_actions

log = logging.getLogger(__name__)
# Any of CaseWorkflow's updates that take one input and answer with the case.
CaseUpdate = UpdateMethodMultiParam[[CaseWorkflow, Any], ActionResult]


def case_out(
    state: CaseState, settings: Settings, source: Literal["workflow", "postgresql"] = "workflow"
) -> CaseOut:
    """The case as the API answers it, from the workflow's state or PostgreSQL's copy of it.

    `source` tells the client which: the read model may lag the case by a few seconds.
    """
    c, sla = state.sla.commitment, state.sla
    data = state.model_dump(exclude={"sla", "timings", "severity_assignment"})
    return CaseOut(
        **data,
        severity_assignment=state.severity_assignment,
        sla=SlaOut(
            state=sla.state,
            policy_version=c.policy_version,
            availability=c.availability,
            target=c.target,
            committed=c.committed,
            attention_from=c.attention_from,
            response_due=c.response_due,
            warning_at=c.warning_at,
            responded_at=sla.responded_at,
            warned_at=sla.warned_at,
            breached_at=sla.breached_at,
        ),
        allowed_actions=[a.value for a in allowed_actions(state, datetime.now(UTC))],
        temporal_ui_url=settings.temporal_case_url(state.case_id),
        source=source,
    )


# Temporal buffers very few queries per workflow while one of its tasks is in flight and
# refuses more with RESOURCE_EXHAUSTED (BusyWorkflow): under load (the projection lane
# queries the case too), the read after an intake or an action must wait its turn
# rather than fail an action that was applied.
_BUSY_PAUSE = 0.05


async def read_state(
    handle: WorkflowHandle[CaseWorkflow, ActionResult], wait: timedelta
) -> CaseState:
    """The case from its workflow, retrying while Temporal says the workflow is busy.

    Called after a change was applied, so a read that keeps failing must not look like a
    failed change: Temporal's "busy" and a query the worker failed (an overloaded worker
    fails a task that runs over 2 s and retries it) are retried until `wait` runs out,
    then answered as `Unavailable` (503), which a retry with the same request_id reads.
    """
    give_up = asyncio.get_running_loop().time() + wait.total_seconds()
    pause = _BUSY_PAUSE
    while True:
        left = give_up - asyncio.get_running_loop().time()
        try:
            return await handle.query(
                CaseWorkflow.state, rpc_timeout=timedelta(seconds=max(left, 0.5))
            )
        except (RPCError, WorkflowQueryFailedError) as exc:
            busy = isinstance(exc, WorkflowQueryFailedError) or (
                exc.status == RPCStatusCode.RESOURCE_EXHAUSTED
            )
            if not busy:
                raise
            if left <= pause:
                raise Unavailable(
                    f"case {handle.id} was changed but cannot be read now; "
                    "retry with the same request_id to read it"
                ) from exc
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


async def open_case(
    client: Client, task_queue: str, inp: CaseInput, wait: timedelta
) -> CaseState | None:
    """Start the workflow and wait until it has registered the case (update-with-start),
    then read the case from it. None when the workflow started but no worker registered
    it within `wait`: the case exists and will be registered."""
    severity = inp.severity.severity.value
    start = WithStartWorkflowOperation(
        CaseWorkflow.run,
        inp,
        id=inp.case_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"{inp.case_id} · gravedad {severity} · plan {inp.plan.value} · "
        f"{inp.customer.name}",
        static_details=f"**Cliente:** {inp.customer.name} ({inp.customer.id})  \n"
        f"**Resumen:** {inp.summary}",
        # Served first in a backlog (a deadline burst): its tasks and its activities.
        priority=case_priority(inp.severity.severity, inp.plan),
    )
    try:
        await client.execute_update_with_start_workflow(
            CaseWorkflow.registration, start_workflow_operation=start, rpc_timeout=wait
        )
        handle = client.get_workflow_handle_for(CaseWorkflow.run, inp.case_id)
    except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as exc:
        if isinstance(exc, RPCError) and exc.status != RPCStatusCode.DEADLINE_EXCEEDED:
            raise
        # Whether the start went through decides between "accepted" and "try again".
        try:
            await client.get_workflow_handle(inp.case_id).describe()
        except RPCError as missing:
            if missing.status == RPCStatusCode.NOT_FOUND:
                raise Unavailable("Temporal did not start the case in time; retry") from exc
            raise
        log.warning("case %s started but not yet registered by a worker", inp.case_id)
        return None
    try:
        return await read_state(handle, wait)
    except Unavailable:
        # Registered, but not readable now: the client gets the case's id (202).
        log.warning("case %s registered but could not be read back", inp.case_id)
        return None


_LIVE_READ = timedelta(seconds=2)


async def live_state(services: Services, case_id: str) -> CaseState | None:
    """The case from its workflow, or None when Temporal (or a worker) cannot say."""
    try:
        if services.temporal is None:
            assert services.temporal_connect is not None
            services.temporal = await services.temporal_connect()
        handle = services.temporal.get_workflow_handle_for(CaseWorkflow.run, case_id)
        return await handle.query(CaseWorkflow.state, rpc_timeout=_LIVE_READ)
    except (RPCError, WorkflowQueryFailedError, RuntimeError) as exc:
        log.info("case %s read from PostgreSQL: %s", case_id, type(exc).__name__)
        return None


async def current_case(services: Services, case_id: str) -> CaseState | None:
    """The case as it is now, or as PostgreSQL last saw it when Temporal cannot say."""
    return await live_state(services, case_id) or await services.store.get_case(case_id=case_id)


# The workflow refuses actions for an instant while it continues as new; the retry lands
# on the new run, where an action already applied is answered, not applied again.
_RETRY_PAUSE = 0.1


def update_id(update: CaseUpdate, cmd: ActionInput) -> str:
    """Temporal de-duplicates updates by id within a run, answering a repeated id with
    the first result without asking the workflow. So the id holds the client's retry key
    scoped to the action and the acting identity, and the body's digest: a retry is
    answered, and the same key with another body reaches the workflow, which refuses it.
    Without a key, a fresh id per HTTP request."""
    name = getattr(update, "__name__", "update")
    if cmd.request_id:
        return f"{name}:{cmd.actor}:{cmd.request_id}:{cmd.body_digest()[:16]}"
    return f"{name}:{uuid.uuid4()}"


async def send_update(
    client: Client, case_id: str, update: CaseUpdate, cmd: ActionInput, wait: timedelta
) -> CaseState:
    """Send an action to the case's workflow and answer with the case as it is after it."""
    handle = client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    ident = update_id(update, cmd)
    give_up = asyncio.get_running_loop().time() + wait.total_seconds()
    while True:
        left = give_up - asyncio.get_running_loop().time()
        try:
            await handle.execute_update(
                update, cmd, id=ident, rpc_timeout=timedelta(seconds=max(left, 0.5))
            )
            break
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            # Temporal may still deliver it when a worker comes back; a retry with the same
            # request_id is then answered instead of applied twice.
            raise Unavailable(
                f"no worker answered for case {case_id} within {wait.total_seconds():g} s; "
                "the action may still be applied: retry with the same request_id"
            ) from exc
        except WorkflowUpdateFailedError as exc:
            if not _retry_later(exc) or left <= 0:
                raise _refusal(exc, case_id) from exc
        except RPCError as exc:
            if exc.status not in _GONE:
                raise
            await _check_exists(client, case_id, exc)
            if left <= 0:
                raise
        await asyncio.sleep(_RETRY_PAUSE)
    return await read_state(handle, wait)


_GONE = {RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION}


def _retry_later(exc: WorkflowUpdateFailedError) -> bool:
    cause = exc.cause
    return isinstance(cause, ApplicationError) and cause.type == CONTINUING_AS_NEW


def _refusal(exc: WorkflowUpdateFailedError, case_id: str) -> Exception:
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return exc
    details = cause.details[0] if cause.details else {}
    if cause.type in (ACTION_NOT_ALLOWED, REQUEST_ID_REUSED, CONTINUING_AS_NEW):
        return ActionRefused(cause.message, details.get("stage"), details.get("allowed", []))
    if cause.type == CONSENT_NOT_PROVEN:
        return Forbidden(cause.message)
    return exc


async def _check_exists(client: Client, case_id: str, exc: RPCError) -> None:
    """NOT_FOUND while continuing as new is a moment to retry; otherwise it is an answer."""
    try:
        described = await client.get_workflow_handle(case_id).describe()
    except RPCError as missing:
        if missing.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(case_id) from exc
        raise
    if described.status != WorkflowExecutionStatus.RUNNING:
        raise ActionRefused(f"case {case_id} is closed; no action is allowed", None, []) from exc


# The agent's answer waits for this call: bounded, and its failure only logged.
_REPRIORITIZE_TIMEOUT = timedelta(seconds=3)


async def reprioritize(client: Client, case_id: str, severity: Severity, plan: Plan) -> None:
    """Give a reclassified case the task priority of its new severity and plan.

    The priority set at start would otherwise stay, and a case raised to severity A would
    still wait behind others in a deadline burst. Best effort: the reclassification is
    already in the case, so a server that cannot change the priority is logged, not an
    error for the agent.
    """
    key = priority_key(severity, plan)
    request = UpdateWorkflowExecutionOptionsRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=case_id),
        workflow_execution_options=WorkflowExecutionOptions(
            priority=PriorityProto(priority_key=key)
        ),
        update_mask=FieldMask(paths=["priority"]),
    )
    try:
        await client.workflow_service.update_workflow_execution_options(
            request, timeout=_REPRIORITIZE_TIMEOUT
        )
    except RPCError as exc:
        log.warning("case %s keeps its task priority (wanted %d): %s", case_id, key, exc)
