"""Delivery lanes: effects leave the workflow in order, each lane by its own coroutine.

The clock never waits for them. A state change (an action, a deadline) is decided and
shown in Temporal at once; its events then reach PostgreSQL through the projection
lane, and its messages go out through the team lane and the customer lane. A lane that
is stuck (PostgreSQL down, the mail server down, one customer's mailbox refusing)
delays only what is behind it in that lane. Entries leave a lane only once delivered,
so what is pending is carried across continue-as-new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import PROJECTION_REJECTED
    from activities.messaging import Messaging
    from activities.projection import Projector
    from workflows.messages import (
        Change,
        CustomerMail,
        Pending,
        ProjectionBatch,
        TeamNotification,
    )
    from workflows.search_attributes import PROJECTION_STATE

T = TypeVar("T")
_MAX_BATCH_EVENTS = 100
# A first try that fails within this marks the projection behind (visible to ops and
# /readyz); the lane then keeps trying with backoff capped at 5 s, so the read model
# converges within seconds of PostgreSQL's return.
_PROJECTION_FIRST_TRY = timedelta(seconds=20)
_PROJECTION_CATCH_UP = timedelta(hours=1)
# Errors that cannot succeed on retry are raised non-retryable by the activities
# themselves (`activities.errors`), so the policies need not list them in every
# scheduled activity's history event.
_PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=5),
)
_MESSAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
)

_MIN_ATTEMPT = timedelta(seconds=5)
# Called when a message could not be delivered: (what, why, was it for the customer).
OnUndeliverable = Callable[[str, str, bool], None]
# Called when PostgreSQL refused a batch for good: (event types, why).
OnRejected = Callable[[list[str], str], None]


def failure_reason(err: ActivityError) -> str:
    """The innermost cause of an activity's failure, cut to 500 characters, as recorded
    on the case: a failure is kept in the case's history, which must stay small."""
    cause = err.cause
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    text = str(cause or err)
    return text[:500]


def _rejected(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type == PROJECTION_REJECTED


def _mark_projection(behind: bool) -> None:
    """Tell ops (and /readyz) when this case's read model falls behind and when it has
    caught up. The mark survives continue-as-new with the search attributes, so it is
    read back rather than remembered; a case that never fell behind carries none."""
    was_behind = workflow.info().typed_search_attributes.get(PROJECTION_STATE) == "behind"
    if behind != was_behind:
        value = "behind" if behind else "current"
        workflow.upsert_search_attributes([PROJECTION_STATE.value_set(value)])


class Lanes:
    """The case's three ordered delivery lanes: projection to PostgreSQL, team notices and
    customer mails, each an asyncio task of the workflow working behind the clock.

    A change is queued at once and delivered in order per lane; what is not delivered
    yet (`pending`) travels with continue-as-new, so nothing is lost when a run ends.
    """

    def __init__(
        self,
        case_id: str,
        pending: Pending,
        message_budget: timedelta,
        on_undeliverable: OnUndeliverable,
        on_rejected: OnRejected,
    ) -> None:
        self.case_id = case_id
        self.pending = pending
        self._budget = message_budget
        self._on_undeliverable = on_undeliverable
        self._on_rejected = on_rejected
        self._tasks: list[asyncio.Task[None]] = []

    def queue(self, change: Change, mails: list[CustomerMail]) -> None:
        """Hand a change's projection, notices and mails to their lanes; never waits."""
        self.pending.projection.append(change)
        self.pending.team.extend(change.notices)
        self.pending.customer.extend(mails)

    @property
    def idle(self) -> bool:
        """Nothing left to deliver: the case may complete (or continue as new) now."""
        p = self.pending
        return not (p.projection or p.team or p.customer)

    def start(self) -> None:
        """Start the lanes; from the workflow's run, never from `__init__` (no tasks yet)."""
        self._tasks = [
            asyncio.create_task(self._lane(self.pending.projection, self._project_next)),
            asyncio.create_task(self._lane(self.pending.team, self._send_team)),
            asyncio.create_task(self._lane(self.pending.customer, self._send_customer)),
        ]

    def stop(self) -> None:
        """Cancel the lanes once they are idle and the case has ended."""
        for task in self._tasks:
            task.cancel()

    @staticmethod
    async def _lane(entries: list[T], deliver: Callable[[], Awaitable[int]]) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(entries))
            done = await deliver()
            del entries[:done]

    # --- PostgreSQL ---

    async def _project_next(self) -> int:
        changes = self.pending.projection
        taken, events = 0, 0
        while taken < len(changes) and (taken == 0 or events < _MAX_BATCH_EVENTS):
            events += len(changes[taken].events)
            taken += 1
        await self._project(ProjectionBatch(case_id=self.case_id, changes=changes[:taken]))
        return taken

    async def _project(self, batch: ProjectionBatch) -> None:
        types = batch.event_types
        budget = _PROJECTION_FIRST_TRY
        while True:
            try:
                await self._project_within(batch, budget)
                break
            except ActivityError as err:
                if _rejected(err):
                    self._on_rejected(types, failure_reason(err))
                    break
            _mark_projection(behind=True)
            budget = _PROJECTION_CATCH_UP
        _mark_projection(behind=False)

    @staticmethod
    async def _project_within(batch: ProjectionBatch, budget: timedelta) -> None:
        await workflow.execute_activity_method(
            Projector.project,
            batch,
            schedule_to_close_timeout=budget,
            start_to_close_timeout=timedelta(seconds=15),
            retry_policy=_PROJECTION_RETRY,
            summary=", ".join(batch.event_types) or "avisos",
        )

    # --- Messages ---

    async def _send_team(self) -> int:
        note = self.pending.team[0]
        summary = f"Aviso a {note.audience}: {note.kind}"
        await self._send(Messaging.send_team_notice, note, summary, to_customer=False)
        return 1

    async def _send_customer(self) -> int:
        mail = self.pending.customer[0]
        await self._send(
            Messaging.send_customer_mail, mail, f"Correo al cliente: {mail.kind}", to_customer=True
        )
        return 1

    async def _send(
        self,
        activity: Callable[[Messaging, Any], Awaitable[None]],
        arg: TeamNotification | CustomerMail,
        summary: str,
        *,
        to_customer: bool,
    ) -> None:
        # The budget runs from when the message was queued: behind a stuck message, the
        # next ones do not each get a fresh day.
        spent = workflow.now() - arg.queued_at if arg.queued_at else timedelta(0)
        left = self._budget - spent
        if left < _MIN_ATTEMPT:
            self._on_undeliverable(summary, "time budget used up while queued", to_customer)
            return
        try:
            await workflow.execute_activity_method(
                activity,
                arg,
                schedule_to_close_timeout=left,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=_MESSAGE_RETRY,
                # No UI summary: the input already says which message it is, and every
                # byte here is in the case's history.
            )
        except ActivityError as err:
            reason = failure_reason(err)
            workflow.logger.warning("message not delivered (%s): %s", summary, reason)
            self._on_undeliverable(summary, reason, to_customer)
