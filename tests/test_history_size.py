"""Histories stay small: activities get what changed, updates answer with a revision.

Measured on the dev server (its `history_size_bytes`), because Temporal's limits and the
cost of replaying a case are in those bytes. Version 1 wrote about 96 KB for the typical
remote-access case below, copying the whole case into every activity and answer.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.builders import workflow_case
from workflows.case import CaseWorkflow
from workflows.models import (
    Close,
    ContactChannel,
    ContactOutcome,
    EndRemoteSession,
    LogContact,
    RemoteAccessKind,
    RequestRemoteAccess,
    ResolutionMethod,
    Resolve,
    StartRemoteSession,
)

NO_ANSWER = LogContact(
    actor="ana", channel=ContactChannel.PHONE, outcome=ContactOutcome.NO_ANSWER, note="buzón"
)
REACHED = LogContact(actor="ana", channel=ContactChannel.PHONE, outcome=ContactOutcome.REACHED)
# The target was 30 KB, measured 28.8-29.0 KB (2026-11-25) with a 13-character
# task queue like "support-cases"; the API's start adds the UI's summary and details,
# about 0.2 KB. Issue 12 added two customer mails to this path (the confirmation of the
# authorization and of the session's end) and their version marker: 32.0 KB measured.
TYPICAL_CASE_BYTES = 33 * 1024


def _short_queue() -> str:
    # Every scheduled activity names its task queue: a production-like name
    # ("support-cases"), not the suite's 40-character ones, gives production's figure.
    return f"h-{uuid.uuid4().hex[:11]}"


async def _size(handle: WorkflowHandle[Any, Any]) -> int:
    described = await handle.describe()
    return int(described.raw_description.workflow_execution_info.history_size_bytes)


async def test_a_typical_remote_access_case_writes_a_small_history(
    local_env: WorkflowEnvironment,
) -> None:
    task_queue = _short_queue()
    async with workflow_case(local_env, task_queue) as case:
        h = case.handle
        for contact in (NO_ANSWER, NO_ANSWER, REACHED):
            await h.execute_update(CaseWorkflow.log_contact, contact)
        ask = RequestRemoteAccess(
            actor="ana", reason="Revisar Outlook", access=RemoteAccessKind.CONTROL
        )
        await h.execute_update(CaseWorkflow.request_remote_access, ask)
        await case.decide("authorized")
        await h.execute_update(CaseWorkflow.start_remote_session, StartRemoteSession(actor="ana"))
        end = EndRemoteSession(actor="ana", outcome="completed", summary="Perfil reparado")
        await h.execute_update(CaseWorkflow.end_remote_session, end)
        done = Resolve(actor="ana", methods=[ResolutionMethod.REMOTE], summary="Funciona")
        await h.execute_update(CaseWorkflow.resolve, done)
        await h.execute_update(CaseWorkflow.close, Close(actor="ana"))
        await h.result()
        assert await _size(h) <= TYPICAL_CASE_BYTES


async def test_each_further_contact_adds_a_constant_amount(
    local_env: WorkflowEnvironment,
) -> None:
    task_queue = _short_queue()
    async with workflow_case(local_env, task_queue) as case:
        h = case.handle
        for _ in range(2):  # the stage and the search attributes change on the first
            await h.execute_update(CaseWorkflow.log_contact, NO_ANSWER)
        await asyncio.sleep(0.2)
        sizes = [await _size(h)]
        for _ in range(8):
            await h.execute_update(CaseWorkflow.log_contact, NO_ANSWER)
            await asyncio.sleep(0.2)  # its projection and notice have gone out
            sizes.append(await _size(h))
    steps = [b - a for a, b in itertools.pairwise(sizes)]
    # Not growing with the case: the last contact costs what the first one did.
    assert max(steps) - min(steps) <= 0.05 * min(steps), steps
    assert max(steps) <= 1900, steps  # measured 1.78 KB
