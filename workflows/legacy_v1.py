"""How version 1 of the case workflow carried out effects, kept for the cases it opened.

Version 1 persisted every change to PostgreSQL and sent every message before it looked
at the clock again, under a lock its updates also took. Cases started by it replay
their history through this code (their history has no `effect-lanes` marker) and keep
running on it until they end or continue as new; a case that continues as new runs on
the lanes from then on. `tests/histories/v1-*.json` pin it: do not change what it
schedules, in which order, or how many ids it draws with `workflow.uuid4()` (later
updates refer to them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import transitions as tr
    from workflows.deadlines import fire_due, pending
    from workflows.effects import CustomerMessage, Effects
    from workflows.messages import (
        AuthorizationRequestNotice,
        CaseEvent,
        CaseRecord,
        CustomerNotice,
        SessionLinkNotice,
        TeamNotification,
    )
    from workflows.models import CaseState
    from workflows.search_attributes import search_attribute_updates

if TYPE_CHECKING:
    from workflows.case import CaseWorkflow

_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
_SEEN_IDS_KEPT = 500
RECORD = "record_case"
NOTIFY_TEAM = "notify_team"
NOTIFY_CUSTOMER = "send_customer_notice"
REQUEST_AUTHORIZATION = "request_customer_authorization"
SESSION_LINK = "issue_session_link"


class LegacyV1:
    """Version 1's effect handling, driven by `CaseWorkflow` for cases with no `effect-lanes`
    marker.

    It persisted and sent everything under one lock before looking at the clock again, so
    its deadlines could wait on PostgreSQL and the mailer; that is why version 2 has lanes.
    Frozen: `tests/histories/v1-*.json` must keep replaying through it.
    """

    def __init__(self, wf: CaseWorkflow) -> None:
        self.wf = wf
        self.lock = asyncio.Lock()
        self.wake = False
        self.seen = list(wf.input.seen_request_ids)
        self.outbox: list[tuple[str, object, str]] = []

    @property
    def state(self) -> CaseState:
        """The case, owned by the workflow this drives."""
        return self.wf.state_now

    async def run(self) -> None:
        """Version 1's main loop: register, then fire deadlines, deliver and wait until the case
        ends. Continuing as new hands the case to version 2, which runs the lanes.
        """
        wf = self.wf
        if wf.fresh:
            async with self.lock:
                await self.apply(tr.register(self.state))
                wf.registered = True
        while True:
            async with self.lock:
                await self.apply(fire_due(self.state, workflow.now()))
            await self.drain()
            if self.state.stage.is_terminal:
                break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self.drain()
                workflow.continue_as_new(
                    wf.input.model_copy(update={"state": self.state, "seen_request_ids": self.seen})
                )
            await self.wait()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.drain()

    async def wait(self) -> None:
        """Wait for the earliest deadline, a change or a queued message, with a `wait_condition`
        timeout: what version 1 recorded, though version 2 keeps one `DeadlineTimer` instead.
        """
        self.wake = False
        due = pending(self.state)
        if not due:
            await workflow.wait_condition(lambda: self.wake or bool(self.outbox))
            return
        at, label = due[0]
        left = (at - workflow.now()).total_seconds()
        if left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.wake or bool(self.outbox), timeout=left, timeout_summary=label
            )

    async def act(
        self,
        request_id: str | None,
        check: Callable[[], None],
        change: Callable[[datetime], Effects],
    ) -> int:
        """Apply an update under the lock, once per request id.

        Version 1 kept ids without action or body, so a reused id is answered with the current
        revision instead of being refused; kept as recorded.
        """
        async with self.lock:
            if request_id is None or request_id not in self.seen:
                check()
                await self.apply(change(workflow.now()))
                if request_id is not None:
                    self.seen = [*self.seen[-_SEEN_IDS_KEPT + 1 :], request_id]
        return self.state.revision

    async def apply(self, fx: Effects) -> None:
        """Persist the change with `record_case` first, then queue its messages. The activities,
        their order and the `workflow.uuid4()` draws here are what version 1 histories contain.
        """
        if not fx:
            return
        now = workflow.now()
        state = self.state
        state.revision += 1
        events = [
            CaseEvent(
                event_id=str(workflow.uuid4()),
                case_id=state.case_id,
                type=e.type,
                at=now,
                actor=e.actor,
                data=e.data,
            )
            for e in fx.events
        ]
        await workflow.execute_activity(
            RECORD,
            CaseRecord(state=state, events=events),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_RETRY,
            summary=", ".join(e.type for e in events) or "estado",
        )
        workflow.upsert_search_attributes(search_attribute_updates(state))
        workflow.set_current_details(self.wf.details())
        snapshot = state.model_copy(deep=True)
        for n in fx.notices:
            note = TeamNotification(
                notification_id=str(workflow.uuid4()),
                case_id=state.case_id,
                audience=n.audience,
                kind=n.kind,
                message=n.message,
            )
            self.outbox.append((NOTIFY_TEAM, note, f"Aviso a {note.audience}: {note.kind}"))
        for kind in fx.customer:
            self.outbox.append(self._customer_message(kind, snapshot))
        self.wake = True

    @staticmethod
    def _customer_message(kind: CustomerMessage, snapshot: CaseState) -> tuple[str, object, str]:
        if kind is CustomerMessage.AUTHORIZATION_REQUEST:
            auth = snapshot.authorization
            assert auth is not None
            req = AuthorizationRequestNotice(
                state=snapshot,
                request_id=auth.request_id,
                access_hours=snapshot.timings.session_ttl_seconds / 3600,
            )
            return (REQUEST_AUTHORIZATION, req, "Solicitud de autorización")
        if kind is CustomerMessage.SESSION_LINK:
            link = SessionLinkNotice(state=snapshot, session_id=snapshot.sessions[-1].session_id)
            return (SESSION_LINK, link, "Enlace de sesión remota al cliente")
        notice = CustomerNotice(
            notice_id=str(workflow.uuid4()),
            kind="acknowledgement" if kind is CustomerMessage.ACKNOWLEDGEMENT else "resolution",
            state=snapshot,
        )
        return (NOTIFY_CUSTOMER, notice, f"Correo al cliente: {kind}")

    async def drain(self) -> None:
        """Send queued messages in order; a failed one becomes a `message_undeliverable` change."""
        while self.outbox:
            activity, arg, summary = self.outbox.pop(0)
            try:
                await workflow.execute_activity(
                    activity,
                    arg,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=_RETRY,
                    summary=summary,
                )
            except ActivityError as err:
                reason = str(err.cause or err)
                workflow.logger.warning("message not delivered (%s): %s", summary, reason)
                async with self.lock:
                    to_customer = activity != NOTIFY_TEAM
                    await self.apply(tr.message_failed(self.state, summary, reason, to_customer))
