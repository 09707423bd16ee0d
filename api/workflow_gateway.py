"""Starting case workflows and sending them updates, with errors turned into API errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from activities.settings import Settings
from activities.store import CaseStore
from api.errors import ActionRefused, CaseNotFound, Unavailable
from api.schemas import CaseOut, SlaOut
from workflows.case import ACTION_NOT_ALLOWED, CaseWorkflow
from workflows.models import CaseInput, CaseState
from workflows.rules import allowed_actions

log = logging.getLogger(__name__)
# Any of CaseWorkflow's updates that take one input and answer with the case.
CaseUpdate = UpdateMethodMultiParam[[CaseWorkflow, Any], CaseState]


def case_out(state: CaseState, settings: Settings) -> CaseOut:
    c, sla = state.sla.commitment, state.sla
    ui = (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{settings.temporal_namespace}"
        f"/workflows/{state.case_id}"
    )
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
        temporal_ui_url=ui,
    )


async def open_case(
    client: Client, task_queue: str, inp: CaseInput, wait: timedelta
) -> CaseState | None:
    """Start the workflow and wait until it has persisted the case (update-with-start),
    so the 201 answer and an immediate GET agree. None when the workflow started but no
    worker registered it within `wait`: the case exists and will be registered."""
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
    )
    try:
        return await client.execute_update_with_start_workflow(
            CaseWorkflow.registration, start_workflow_operation=start, rpc_timeout=wait
        )
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


async def send_update(
    client: Client,
    store: CaseStore,
    case_id: str,
    update: CaseUpdate,
    cmd: Any,
    wait: timedelta,
) -> CaseState:
    current = await store.get_case(case_id)
    if current is None:
        raise CaseNotFound(case_id)
    if current.stage.is_terminal:
        raise ActionRefused(
            f"case {case_id} is {current.stage.value}; no action is allowed",
            current.stage.value,
            [],
        )
    handle = client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    name = getattr(update, "__name__", "update")
    update_id = f"{name}:{cmd.request_id}" if cmd.request_id else None
    try:
        state = await handle.execute_update(update, cmd, id=update_id, rpc_timeout=wait)
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        # Temporal may still deliver it when a worker comes back; a retry with the same
        # request_id is then answered instead of applied twice.
        raise Unavailable(
            f"no worker answered for case {case_id} within {wait.total_seconds():g} s; "
            "the action may still be applied: retry with the same request_id"
        ) from exc
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == ACTION_NOT_ALLOWED:
            details = cause.details[0] if cause.details else {}
            raise ActionRefused(
                cause.message, details.get("stage", current.stage.value), details.get("allowed", [])
            ) from exc
        raise
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ActionRefused(
                f"case {case_id} is no longer running", current.stage.value, []
            ) from exc
        raise
    return state
