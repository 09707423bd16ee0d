"""CaseWorkflow: one durable workflow per support case (workflow id = case id).

The workflow owns the case's state. Agents' actions arrive as Updates whose validators
reject what the current stage does not allow before it reaches history; deadlines (queue
entry, SLA warning and breach, authorization expiry, automatic close) are durable timers
recomputed from the state after every change. State changes live in `transitions`;
this module only sequences them with persistence and messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import transitions as tr
    from workflows.domain import SlaState, Stage
    from workflows.models import (
        AuthorizationRequestNotice,
        Cancel,
        CaseEvent,
        CaseInput,
        CaseRecord,
        CaseState,
        ChangePlan,
        ChangeSeverity,
        Close,
        CustomerNotice,
        DecideRemoteAccess,
        EndRemoteSession,
        LogContact,
        Reopen,
        RequestRemoteAccess,
        Resolve,
        SessionLinkNotice,
        SlaStatus,
        StartRemoteSession,
        TeamNotification,
    )
    from workflows.rules import Action, allowed_actions, possible_methods, refusal
    from workflows.search_attributes import search_attribute_updates
    from workflows.sla import evaluate

ACTION_NOT_ALLOWED = "ActionNotAllowed"
_ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
_SEEN_IDS_KEPT = 500


class CaseActivities:
    """Activity names, so the workflow does not import the I/O code into its sandbox."""

    RECORD = "record_case"
    NOTIFY_TEAM = "notify_team"
    NOTIFY_CUSTOMER = "send_customer_notice"
    REQUEST_AUTHORIZATION = "request_customer_authorization"
    SESSION_LINK = "issue_session_link"


def _not_allowed(message: str, state: CaseState, allowed: list[str]) -> ApplicationError:
    return ApplicationError(
        message,
        {"stage": state.stage.value, "allowed": allowed},
        type=ACTION_NOT_ALLOWED,
        non_retryable=True,
    )


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._input = inp
        self._fresh = inp.state is None
        self._state = inp.state or self._initial_state(inp)
        self._seen = list(inp.seen_request_ids)
        self._lock = asyncio.Lock()
        self._wake = False
        self._registered = not self._fresh
        # Messages waiting to go out: (activity name, its input, summary for the UI).
        self._outbox: list[tuple[str, object, str]] = []

    @staticmethod
    def _initial_state(inp: CaseInput) -> CaseState:
        commitment = evaluate(inp.policy, inp.plan, inp.severity.severity, inp.registered_at)
        return CaseState(
            case_id=inp.case_id,
            stage=Stage.REGISTRO,
            plan=inp.plan,
            severity=inp.severity.severity,
            severity_assignment=inp.severity,
            customer=inp.customer,
            summary=inp.summary,
            description=inp.description,
            affected_services=inp.affected_services,
            registered_at=inp.registered_at,
            opened_by=inp.opened_by,
            timings=inp.timings,
            sla=SlaStatus(
                commitment=commitment,
                state=SlaState.PENDING if commitment.committed else SlaState.NOT_COMMITTED,
            ),
        )

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseState:
        if self._fresh:
            async with self._lock:
                await self._apply(tr.register(self._state))
                self._registered = True
        while True:
            async with self._lock:
                await self._apply(tr.fire_due(self._state, workflow.now()))
            await self._drain_outbox()
            if self._state.stage.is_terminal:
                break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._drain_outbox()
                workflow.continue_as_new(
                    self._input.model_copy(
                        update={"state": self._state, "seen_request_ids": self._seen}
                    )
                )
            await self._wait_for_change_or_deadline()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._drain_outbox()
        return self._state

    async def _wait_for_change_or_deadline(self) -> None:
        self._wake = False
        due = tr.deadlines(self._state)
        if not due:
            await workflow.wait_condition(lambda: self._wake or bool(self._outbox))
            return
        at, label = due[0]
        left = (at - workflow.now()).total_seconds()
        if left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._wake or bool(self._outbox), timeout=left, timeout_summary=label
            )

    # --- Carrying out effects ---

    async def _apply(self, fx: tr.Effects) -> None:
        """Persist the state with its new events, then queue the messages they imply."""
        if not fx:
            return
        now = workflow.now()
        state = self._state
        state.revision += 1
        events = [
            CaseEvent(
                event_id=str(workflow.uuid4()),
                case_id=state.case_id,
                type=t,
                at=now,
                actor=actor,
                data=data,
            )
            for t, actor, data in fx.events
        ]
        await workflow.execute_activity(
            CaseActivities.RECORD,
            CaseRecord(state=state, events=events),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_ACTIVITY_RETRY,
            summary=", ".join(e.type for e in events) or "estado",
        )
        workflow.upsert_search_attributes(search_attribute_updates(state))
        workflow.set_current_details(self._details())
        snapshot = state.model_copy(deep=True)
        for audience, kind, message in fx.notifications:
            note = TeamNotification(
                notification_id=str(workflow.uuid4()),
                case_id=state.case_id,
                audience=audience,
                kind=kind,
                message=message,
            )
            self._outbox.append(
                (CaseActivities.NOTIFY_TEAM, note, f"Aviso a {note.audience}: {note.kind}")
            )
        for kind in fx.customer:
            self._outbox.append(self._customer_message(kind, snapshot))
        self._wake = True

    @staticmethod
    def _customer_message(kind: tr.CustomerMessage, snapshot: CaseState) -> tuple[str, object, str]:
        if kind == "authorization_request":
            auth = snapshot.authorization
            assert auth is not None
            req = AuthorizationRequestNotice(
                state=snapshot,
                request_id=auth.request_id,
                access_hours=snapshot.timings.session_ttl_seconds / 3600,
            )
            return (CaseActivities.REQUEST_AUTHORIZATION, req, "Solicitud de autorización")
        if kind == "session_link":
            session = snapshot.sessions[-1]
            link = SessionLinkNotice(state=snapshot, session_id=session.session_id)
            return (CaseActivities.SESSION_LINK, link, "Enlace de sesión remota al cliente")
        notice = CustomerNotice(notice_id=str(workflow.uuid4()), kind=kind, state=snapshot)
        return (CaseActivities.NOTIFY_CUSTOMER, notice, f"Correo al cliente: {kind}")

    async def _drain_outbox(self) -> None:
        # Messages go out in order, after the state that caused them is persisted, and
        # never inside an update: a slow mail server must not hold an agent's request.
        # Transient failures retry without end; a permanent one (a recipient the mail
        # server rejects) is recorded on the case instead of blocking what follows.
        while self._outbox:
            activity, arg, summary = self._outbox.pop(0)
            try:
                await workflow.execute_activity(
                    activity,
                    arg,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=_ACTIVITY_RETRY,
                    summary=summary,
                )
            except ActivityError as err:
                reason = str(err.cause or err)
                workflow.logger.warning("message not delivered (%s): %s", summary, reason)
                async with self._lock:
                    to_customer = activity != CaseActivities.NOTIFY_TEAM
                    await self._apply(tr.message_failed(self._state, summary, reason, to_customer))

    def _details(self) -> str:
        s, now = self._state, workflow.now()
        c = s.sla.commitment
        lines = [f"**Etapa:** {s.stage.value}", f"**SLA:** {s.sla.state.value}"]
        if s.sla.state is SlaState.PENDING and c.response_due is not None:
            mins = int((c.response_due - now).total_seconds() // 60)
            lines.append(f"**Tiempo restante:** {mins} min (vence {c.response_due.isoformat()})")
        auth = s.authorization
        if auth is not None and auth.status.value in ("pending", "granted"):
            lines.append(f"**Autorización remota:** {auth.status.value} ({auth.access.value})")
        return "  \n".join(lines)

    # --- Updates ---

    def _check(self, action: Action, request_id: str | None) -> None:
        if request_id is not None and request_id in self._seen:
            return  # a retry of an action already applied: the handler answers it
        problem = refusal(self._state, action, workflow.now())
        if problem is not None:
            allowed = [a.value for a in allowed_actions(self._state, workflow.now())]
            raise _not_allowed(problem, self._state, allowed)

    async def _act(
        self, action: Action, request_id: str | None, change: Callable[[datetime], tr.Effects]
    ) -> CaseState:
        async with self._lock:
            if request_id is not None and request_id in self._seen:
                return self._state
            # A timer may have changed the case while this update waited for the lock.
            self._check(action, None)
            await self._apply(change(workflow.now()))
            if request_id is not None:
                self._seen = [*self._seen[-_SEEN_IDS_KEPT + 1 :], request_id]
        return self._state

    @workflow.update
    async def registration(self) -> CaseState:
        """Answers once the case is persisted: the API's POST /cases waits on this."""
        await workflow.wait_condition(lambda: self._registered)
        return self._state

    @workflow.update
    async def log_contact(self, cmd: LogContact) -> CaseState:
        return await self._act(
            Action.CONTACT,
            cmd.request_id,
            lambda now: tr.log_contact(self._state, cmd, now, str(workflow.uuid4())),
        )

    @log_contact.validator
    def _validate_log_contact(self, cmd: LogContact) -> None:
        self._check(Action.CONTACT, cmd.request_id)

    @workflow.update
    async def request_remote_access(self, cmd: RequestRemoteAccess) -> CaseState:
        return await self._act(
            Action.REQUEST_REMOTE_ACCESS,
            cmd.request_id,
            lambda now: tr.request_remote(self._state, cmd, now, str(workflow.uuid4())),
        )

    @request_remote_access.validator
    def _validate_request_remote_access(self, cmd: RequestRemoteAccess) -> None:
        self._check(Action.REQUEST_REMOTE_ACCESS, cmd.request_id)

    @workflow.update
    async def decide_remote_access(self, cmd: DecideRemoteAccess) -> CaseState:
        return await self._act(
            Action.DECIDE_REMOTE_ACCESS, cmd.request_id, lambda now: self._decide(cmd, now)
        )

    def _decide(self, cmd: DecideRemoteAccess, now: datetime) -> tr.Effects:
        # Checked again under the lock: the request may have expired since validation.
        self._check_decision(cmd)
        return tr.decide_remote(self._state, cmd, now)

    def _check_decision(self, cmd: DecideRemoteAccess) -> None:
        auth = self._state.authorization
        expected = "granted" if cmd.decision == "revoked" else "pending"
        if (
            auth is None
            or auth.request_id != cmd.authorization_id
            or (auth.status.value != expected)
        ):
            status = auth.status.value if auth else "none"
            raise _not_allowed(
                f"this authorization request cannot be {cmd.decision} now (its status is {status})",
                self._state,
                [],
            )

    @decide_remote_access.validator
    def _validate_decide_remote_access(self, cmd: DecideRemoteAccess) -> None:
        self._check(Action.DECIDE_REMOTE_ACCESS, cmd.request_id)
        if cmd.request_id not in self._seen:
            self._check_decision(cmd)

    @workflow.update
    async def start_remote_session(self, cmd: StartRemoteSession) -> CaseState:
        return await self._act(
            Action.START_REMOTE_SESSION,
            cmd.request_id,
            lambda now: tr.start_session(self._state, cmd.actor, now, str(workflow.uuid4())),
        )

    @start_remote_session.validator
    def _validate_start_remote_session(self, cmd: StartRemoteSession) -> None:
        self._check(Action.START_REMOTE_SESSION, cmd.request_id)

    @workflow.update
    async def end_remote_session(self, cmd: EndRemoteSession) -> CaseState:
        return await self._act(
            Action.END_REMOTE_SESSION,
            cmd.request_id,
            lambda now: tr.end_session(self._state, cmd, now),
        )

    @end_remote_session.validator
    def _validate_end_remote_session(self, cmd: EndRemoteSession) -> None:
        self._check(Action.END_REMOTE_SESSION, cmd.request_id)

    @workflow.update
    async def resolve(self, cmd: Resolve) -> CaseState:
        return await self._act(
            Action.RESOLVE, cmd.request_id, lambda now: tr.resolve(self._state, cmd, now)
        )

    @resolve.validator
    def _validate_resolve(self, cmd: Resolve) -> None:
        self._check(Action.RESOLVE, cmd.request_id)
        if cmd.request_id in self._seen:
            return
        missing = set(cmd.methods) - possible_methods(self._state)
        if missing:
            names = ", ".join(sorted(m.value for m in missing))
            raise _not_allowed(
                f"resolution method(s) {names} did not take place on this case "
                "(phone needs a call that reached the customer; remote needs a finished "
                "remote session)",
                self._state,
                [Action.RESOLVE.value],
            )

    @workflow.update
    async def close(self, cmd: Close) -> CaseState:
        return await self._act(
            Action.CLOSE, cmd.request_id, lambda now: tr.close(self._state, cmd.actor, now, False)
        )

    @close.validator
    def _validate_close(self, cmd: Close) -> None:
        self._check(Action.CLOSE, cmd.request_id)

    @workflow.update
    async def reopen(self, cmd: Reopen) -> CaseState:
        return await self._act(
            Action.REOPEN, cmd.request_id, lambda now: tr.reopen(self._state, cmd.actor, cmd.reason)
        )

    @reopen.validator
    def _validate_reopen(self, cmd: Reopen) -> None:
        self._check(Action.REOPEN, cmd.request_id)

    @workflow.update
    async def cancel(self, cmd: Cancel) -> CaseState:
        return await self._act(
            Action.CANCEL,
            cmd.request_id,
            lambda now: tr.cancel(self._state, cmd.actor, cmd.reason, now),
        )

    @cancel.validator
    def _validate_cancel(self, cmd: Cancel) -> None:
        self._check(Action.CANCEL, cmd.request_id)

    @workflow.update
    async def change_severity(self, cmd: ChangeSeverity) -> CaseState:
        return await self._act(
            Action.CHANGE_SEVERITY,
            cmd.request_id,
            lambda now: tr.reclassify(self._state, self._input.policy, cmd, now),
        )

    @change_severity.validator
    def _validate_change_severity(self, cmd: ChangeSeverity) -> None:
        self._check(Action.CHANGE_SEVERITY, cmd.request_id)

    @workflow.update
    async def change_plan(self, cmd: ChangePlan) -> CaseState:
        return await self._act(
            Action.CHANGE_PLAN,
            cmd.request_id,
            lambda now: tr.reclassify(self._state, self._input.policy, cmd, now),
        )

    @change_plan.validator
    def _validate_change_plan(self, cmd: ChangePlan) -> None:
        self._check(Action.CHANGE_PLAN, cmd.request_id)

    @workflow.query
    def state(self) -> CaseState:
        return self._state
