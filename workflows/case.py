"""CaseWorkflow: one durable workflow per support case (workflow id = case id).

The workflow owns the case's state, and nothing but that state decides its clock.
Agents' actions arrive as Updates: validators refuse what the case does not allow
before it reaches history, and handlers apply the change at once, without waiting for
anything. Deadlines (`workflows.deadlines`) fire at their instant the same way. Each
change's effects (events for PostgreSQL, notices, customer mails) are handed to the
delivery lanes (`workflows.lanes`), which work behind the clock, never in front of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import metrics
    from workflows import transitions as tr
    from workflows.answers import AnswerBook
    from workflows.changes import change_of
    from workflows.deadlines import fire_due, pending
    from workflows.effects import SYSTEM, Effects, confirmations
    from workflows.lanes import Lanes
    from workflows.legacy_v1 import LegacyV1
    from workflows.messages import ActionResult, CaseInput
    from workflows.models import (
        ActionInput,
        Cancel,
        CaseState,
        ChangePlan,
        ChangeSeverity,
        Close,
        DecideRemoteAccess,
        EndRemoteSession,
        LogContact,
        Reopen,
        RequestRemoteAccess,
        Resolve,
        StartRemoteSession,
    )
    from workflows.refusals import (
        ACTION_NOT_ALLOWED,
        CONTINUING_AS_NEW,
        check_consent,
        check_decision,
        refused,
    )
    from workflows.rules import Action, allowed_actions, possible_methods, refusal
    from workflows.search_attributes import SearchIndex, case_details
    from workflows.timer import DeadlineTimer

# Cases started before this marker existed run version 1 (`workflows.legacy_v1`).
EFFECT_LANES = "effect-lanes"
# Cases past this marker mail the customer a confirmation of each decision and the end of
# each session (`workflows.effects.confirmations`).
DECISION_MAILS = "decision-mails"


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    """The durable life of one support case, from registro to cerrado or cancelado.

    Workflow code must replay exactly as it ran: time comes from `workflow.now()`, ids from
    `workflow.uuid4()`, and any change in what it schedules or draws goes behind a
    `workflow.patched` marker (`EFFECT_LANES`, `DECISION_MAILS`,
    `workflows.timer.FIRED_TIMER_IS_DUE`), or the histories in
    `tests/histories/` stop replaying. Every update has a validator that refuses before
    history; its handler re-checks (a deadline may have fired in between) and answers a retry
    with the same `request_id` instead of applying it twice.
    """

    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self.input = inp
        self.fresh = inp.state is None
        self.state_now = inp.state or tr.initial_state(inp)
        self.registered = not self.fresh
        self._answers = AnswerBook(inp.answers, inp.seen_request_ids)
        self._closing = False
        self._changed = False
        self._index = SearchIndex()
        self._timer = DeadlineTimer()
        self._v1 = None if workflow.patched(EFFECT_LANES) else LegacyV1(self)
        self._lanes = Lanes(
            inp.case_id,
            inp.pending,
            timedelta(seconds=inp.timings.message_budget_seconds),
            self._undeliverable,
            self._projection_rejected,
        )

    @workflow.run
    async def run(self, inp: CaseInput) -> ActionResult:
        """Register a fresh case, then fire deadlines and wait for the next change or deadline.

        Continues as new when Temporal suggests it, so history stays small. Returns only once
        every update handler and every delivery lane has finished, so no answer and no message
        is lost when the case ends. `inp` was already taken by `__init__` (`@workflow.init`).
        """
        if self._v1 is not None:
            await self._v1.run()
            return self._result()
        self._lanes.start()
        if self.fresh:
            self._apply(tr.register(self.state_now))
            self.registered = True
        while not self.state_now.stage.is_terminal:
            now = self._timer.now()
            metrics.deadlines_due(self.state_now, now)
            self._apply(fire_due(self.state_now, now), now)
            if self.state_now.stage.is_terminal:
                break
            if workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new()
            await self._wait_for_change_or_deadline()
        self._timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.wait_condition(lambda: self._lanes.idle)
        self._lanes.stop()
        return self._result()

    async def _continue_as_new(self) -> None:
        # From here validators refuse (the API retries on the new run), so no update can
        # start between this check and continue_as_new; what the lanes have not
        # delivered yet goes along with the state and the answers.
        self._closing = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            self.input.model_copy(
                update={
                    "state": self.state_now,
                    "answers": self._answers.carried(),
                    "pending": self._lanes.pending,
                }
            )
        )

    async def _wait_for_change_or_deadline(self) -> None:
        due = pending(self.state_now)
        at, label = due[0] if due else (None, "")
        self._timer.arm(at, label)
        self._changed = False
        await workflow.wait_condition(lambda: self._changed or self._timer.fired)

    def _result(self) -> ActionResult:
        return ActionResult(case_id=self.state_now.case_id, revision=self.state_now.revision)

    # --- Effects ---

    def _apply(self, fx: Effects, at: datetime | None = None) -> None:
        """Take the change into the state now (or at the deadline `at` that fired); its
        effects follow through the lanes."""
        if not fx:
            return
        now, state = at or workflow.now(), self.state_now
        # Confirmation mails are new commands (and new uuid4 draws): behind a marker, so a
        # history recorded without them replays as it ran. Asked only when there is one
        # to send, so a case that never needs one carries no marker.
        confirm = confirmations(fx)
        if confirm and workflow.patched(DECISION_MAILS):
            fx.customer.extend(confirm)
        change, mails = change_of(fx, state, now, lambda: str(workflow.uuid4()))
        self._lanes.queue(change, mails)
        metrics.changed(state, fx)
        self._index.upsert(state)
        workflow.set_current_details(self.details())
        self._changed = True

    def _undeliverable(self, summary: str, reason: str, to_customer: bool) -> None:
        self._apply(tr.message_failed(self.state_now, summary, reason, to_customer))

    def _projection_rejected(self, types: list[str], reason: str) -> None:
        self._apply(tr.projection_rejected(self.state_now, types, reason))

    def details(self) -> str:
        """The case at a glance, for the Temporal UI's current details."""
        return case_details(self.state_now, workflow.now())

    # --- Updates ---
    # Ids drawn with workflow.uuid4() are part of what replay must reproduce: a later
    # update refers to them (the customer decides on an authorization id). So they are
    # drawn when the change is applied, as version 1 did, and no draw is added or
    # removed on a path without a new version marker.

    def _check(self, action: Action) -> None:
        state, now = self.state_now, workflow.now()
        problem = refusal(state, action, now)
        if problem is not None:
            allowed = [a.value for a in allowed_actions(state, now)]
            raise refused(problem, state, allowed, ACTION_NOT_ALLOWED)

    def _validate(self, action: Action, cmd: ActionInput) -> bool:
        """Refuses before history; True when `cmd` is a retry the handler answers."""
        if self._closing:
            raise refused(
                "the case is continuing as new; retry", self.state_now, [], CONTINUING_AS_NEW
            )
        if self._answers.earlier(action, cmd, self.state_now) is not None:
            return True
        if action is not Action.DECIDE_REMOTE_ACCESS and (
            cmd.actor == SYSTEM or cmd.actor.startswith("cliente:")
        ):
            raise refused(f"{cmd.actor!r} is not an agent", self.state_now, [], ACTION_NOT_ALLOWED)
        self._check(action)
        return False

    async def _act(
        self, action: Action, cmd: ActionInput, change: Callable[[datetime], Effects]
    ) -> ActionResult:
        if self._v1 is not None:
            revision = await self._v1.act(cmd.request_id, lambda: self._check(action), change)
            return ActionResult(case_id=self.state_now.case_id, revision=revision)
        if not self.registered:
            await workflow.wait_condition(lambda: self.registered)
        earlier = self._answers.earlier(action, cmd, self.state_now)
        if earlier is not None:
            return ActionResult(case_id=self.state_now.case_id, revision=earlier, replayed=True)
        # A deadline may have fired since the validator ran (same workflow task).
        self._check(action)
        self._apply(change(workflow.now()))
        self._answers.remember(action, cmd, self.state_now.revision)
        return self._result()

    @workflow.update
    async def registration(self) -> ActionResult:
        """Answers once the case is registered: the API's POST /cases waits on this."""
        await workflow.wait_condition(lambda: self.registered)
        return self._result()

    @workflow.update
    async def log_contact(self, cmd: LogContact) -> ActionResult:
        """An agent's contact attempt; the first that reaches the customer is the SLA's response."""
        return await self._act(
            Action.CONTACT,
            cmd,
            lambda now: tr.log_contact(self.state_now, cmd, now, str(workflow.uuid4())),
        )

    @log_contact.validator
    def _validate_log_contact(self, cmd: LogContact) -> None:
        self._validate(Action.CONTACT, cmd)

    @workflow.update
    async def request_remote_access(self, cmd: RequestRemoteAccess) -> ActionResult:
        """Ask the customer's consent for remote access; they answer from the mailed link."""
        return await self._act(
            Action.REQUEST_REMOTE_ACCESS,
            cmd,
            lambda now: tr.request_remote(self.state_now, cmd, now, str(workflow.uuid4())),
        )

    @request_remote_access.validator
    def _validate_request_remote_access(self, cmd: RequestRemoteAccess) -> None:
        self._validate(Action.REQUEST_REMOTE_ACCESS, cmd)

    @workflow.update
    async def decide_remote_access(self, cmd: DecideRemoteAccess) -> ActionResult:
        """The customer's answer, accepted only from the API's consent page.

        Anyone who can reach Temporal can send an update, so the validator requires the page's
        signature (`workflows.consent`) and the customer as actor; the handler re-checks that the
        request is still open, since it may have expired after validation.
        """
        return await self._act(Action.DECIDE_REMOTE_ACCESS, cmd, lambda now: self._decide(cmd, now))

    def _decide(self, cmd: DecideRemoteAccess, now: datetime) -> Effects:
        check_decision(self.state_now, cmd)
        return tr.decide_remote(self.state_now, cmd, now)

    @decide_remote_access.validator
    def _validate_decide_remote_access(self, cmd: DecideRemoteAccess) -> None:
        if self._validate(Action.DECIDE_REMOTE_ACCESS, cmd):
            return
        check_consent(self.state_now, cmd)
        check_decision(self.state_now, cmd)

    @workflow.update
    async def start_remote_session(self, cmd: StartRemoteSession) -> ActionResult:
        """Connect under the granted authorization; refused once access has run out."""
        return await self._act(
            Action.START_REMOTE_SESSION,
            cmd,
            lambda now: tr.start_session(
                self.state_now, cmd.actor, now, str(workflow.uuid4()), cmd.agent_name
            ),
        )

    @start_remote_session.validator
    def _validate_start_remote_session(self, cmd: StartRemoteSession) -> None:
        self._validate(Action.START_REMOTE_SESSION, cmd)

    @workflow.update
    async def end_remote_session(self, cmd: EndRemoteSession) -> ActionResult:
        """The agent's end of the running session; an ended session allows resolving remotely."""
        return await self._act(
            Action.END_REMOTE_SESSION, cmd, lambda now: tr.end_session(self.state_now, cmd, now)
        )

    @end_remote_session.validator
    def _validate_end_remote_session(self, cmd: EndRemoteSession) -> None:
        self._validate(Action.END_REMOTE_SESSION, cmd)

    @workflow.update
    async def resolve(self, cmd: Resolve) -> ActionResult:
        """Resolve by the methods that took place; the validator names any that did not."""
        return await self._act(
            Action.RESOLVE, cmd, lambda now: tr.resolve(self.state_now, cmd, now)
        )

    @resolve.validator
    def _validate_resolve(self, cmd: Resolve) -> None:
        if self._validate(Action.RESOLVE, cmd):
            return
        missing = set(cmd.methods) - possible_methods(self.state_now)
        if missing:
            names = ", ".join(sorted(m.value for m in missing))
            raise refused(
                f"resolution method(s) {names} did not take place on this case "
                "(phone needs a call that reached the customer; remote needs a finished "
                "remote session)",
                self.state_now,
                [Action.RESOLVE.value],
                ACTION_NOT_ALLOWED,
            )

    @workflow.update
    async def close(self, cmd: Close) -> ActionResult:
        """Close a resolved case early; left alone, it closes itself when the reopen window ends."""
        return await self._act(
            Action.CLOSE, cmd, lambda now: tr.close(self.state_now, cmd.actor, now, False)
        )

    @close.validator
    def _validate_close(self, cmd: Close) -> None:
        self._validate(Action.CLOSE, cmd)

    @workflow.update
    async def reopen(self, cmd: Reopen) -> ActionResult:
        """Allowed only inside the reopen window: after it the case has closed itself."""
        return await self._act(
            Action.REOPEN, cmd, lambda now: tr.reopen(self.state_now, cmd.actor, cmd.reason)
        )

    @reopen.validator
    def _validate_reopen(self, cmd: Reopen) -> None:
        self._validate(Action.REOPEN, cmd)

    @workflow.update
    async def cancel(self, cmd: Cancel) -> ActionResult:
        """Allowed in any working stage except during a remote session, which must end first."""
        return await self._act(
            Action.CANCEL, cmd, lambda now: tr.cancel(self.state_now, cmd.actor, cmd.reason, now)
        )

    @cancel.validator
    def _validate_cancel(self, cmd: Cancel) -> None:
        self._validate(Action.CANCEL, cmd)

    @workflow.update
    async def change_severity(self, cmd: ChangeSeverity) -> ActionResult:
        """Regrade the case; the commitment is recomputed under the policy the case opened with
        (`self.input.policy`), not the policy files of today.
        """
        return await self._act(
            Action.CHANGE_SEVERITY,
            cmd,
            lambda now: tr.reclassify(self.state_now, self.input.policy, cmd, now),
        )

    @change_severity.validator
    def _validate_change_severity(self, cmd: ChangeSeverity) -> None:
        self._validate(Action.CHANGE_SEVERITY, cmd)

    @workflow.update
    async def change_plan(self, cmd: ChangePlan) -> ActionResult:
        """Correct the plan; the commitment is recomputed as for a change of severity."""
        return await self._act(
            Action.CHANGE_PLAN,
            cmd,
            lambda now: tr.reclassify(self.state_now, self.input.policy, cmd, now),
        )

    @change_plan.validator
    def _validate_change_plan(self, cmd: ChangePlan) -> None:
        self._validate(Action.CHANGE_PLAN, cmd)

    @workflow.query
    def state(self) -> CaseState:
        """The whole case as it is now, for the API and the projection activity.

        A query leaves no trace in history, so they read the case here instead of having it
        copied into history with every change.
        """
        return self.state_now
