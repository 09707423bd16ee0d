"""Lifecycle of the case workflow on the time-skipping test server: the phone and remote
paths, the customer's answer (authorized, rejected, expired, revoked), the session timer,
reopen and automatic close, cancel, refused actions and retried requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.builders import (
    CONSENT,
    EMAIL_SENT,
    NO_ANSWER,
    REACHED,
    Recorder,
    WorkflowCase,
    workflow_case,
)
from tests.pure_cases import auth_of
from workflows.case import CaseWorkflow
from workflows.domain import SlaState, Stage
from workflows.messages import CustomerMail
from workflows.models import (
    AuthorizationStatus,
    Cancel,
    CaseState,
    Close,
    ContactOutcome,
    EndRemoteSession,
    RemoteAccessKind,
    Reopen,
    RequestRemoteAccess,
    ResolutionMethod,
    Resolve,
    StartRemoteSession,
)

AGENT = "ana"
PHONE, REMOTE = ResolutionMethod.PHONE, ResolutionMethod.REMOTE
ASK_REMOTE = RequestRemoteAccess(
    actor=AGENT, reason="Revisar el perfil de correo", access=RemoteAccessKind.CONTROL
)
START = StartRemoteSession(actor=AGENT)
END = EndRemoteSession(actor=AGENT, outcome="completed", summary="Perfil de correo reparado")
REOPEN = Reopen(actor=AGENT, reason="Vuelve a fallar")
CANCEL = Cancel(actor=AGENT, reason="El cliente lo resolvió solo")
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
# With the confirmations of the authorization and of the session's end (issue 12).
REMOTE_MESSAGES = [
    "acknowledgement",
    "authorization_request",
    "access_authorized",
    "session_link",
    "session_ended",
    "resolution",
]


def resolve_with(*methods: ResolutionMethod) -> Resolve:
    return Resolve(actor=AGENT, methods=list(methods), summary="El correo vuelve a funcionar")


@pytest.fixture
async def case(skipping_env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[WorkflowCase]:
    """A new premium, severity A case (24/7, first response due in 1 h) and its worker."""
    async with workflow_case(skipping_env, task_queue) as case:
        yield case


def words(text: str) -> list[str]:
    return text.split()


async def drive_to(case: WorkflowCase, stage: Stage) -> CaseState:
    """Takes a fresh case to `stage` by the shortest usual path."""
    update = case.update
    if stage in (Stage.RESOLUCION_TELEFONICA, Stage.RESUELTO):
        await update(CaseWorkflow.log_contact, REACHED)
    elif stage is not Stage.REGISTRO:
        await update(CaseWorkflow.log_contact, EMAIL_SENT)
    if stage in (Stage.AUTORIZACION_REMOTA, Stage.ACCESO_REMOTO):
        await update(CaseWorkflow.request_remote_access, ASK_REMOTE)
    if stage is Stage.ACCESO_REMOTO:
        await case.decide("authorized")
    if stage is Stage.RESUELTO:
        await update(CaseWorkflow.resolve, resolve_with(PHONE))
    state = await case.state()
    assert state.stage is stage
    return state


async def test_phone_path_from_registration_to_close(case: WorkflowCase) -> None:
    update = case.update
    state = await update(CaseWorkflow.log_contact, NO_ANSWER)
    assert state.stage is Stage.CONTACTO
    assert state.sla.state is SlaState.PENDING  # an unanswered call is no response
    state = await update(CaseWorkflow.log_contact, REACHED)
    assert state.stage is Stage.RESOLUCION_TELEFONICA
    assert state.sla.state is SlaState.MET
    state = await update(CaseWorkflow.resolve, resolve_with(PHONE))
    assert state.stage is Stage.RESUELTO
    assert state.resolved_at is not None
    assert state.reopen_until == state.resolved_at + 5 * DAY
    await update(CaseWorkflow.close, Close(actor=AGENT))
    await case.handle.result()
    final = await case.state()
    assert (await case.state()).stage is final.stage is Stage.CERRADO
    assert final.closed_at is not None
    assert final.reopen_until is None
    assert [c.outcome for c in final.contacts] == [ContactOutcome.NO_ANSWER, ContactOutcome.REACHED]
    assert [r.methods for r in final.resolutions] == [[PHONE]]
    assert case.rec.event_types == words("""case_registered case_queued
        contact_logged stage_changed contact_logged stage_changed first_response
        case_resolved stage_changed case_closed stage_changed""")
    assert case.rec.customer == ["acknowledgement", "resolution"]
    assert case.team == ["case_queued"]


async def test_remote_path_authorized(case: WorkflowCase) -> None:
    update = case.update
    state = await update(CaseWorkflow.log_contact, EMAIL_SENT)
    assert state.stage is Stage.CONTACTO
    assert state.sla.state is SlaState.MET  # a sent email is the first response
    state = await update(CaseWorkflow.request_remote_access, ASK_REMOTE)
    assert state.stage is Stage.AUTORIZACION_REMOTA
    auth = auth_of(state)
    assert auth.status is AuthorizationStatus.PENDING
    assert auth.expires_at == auth.requested_at + 24 * HOUR
    state = await case.decide("authorized")
    assert state.stage is Stage.ACCESO_REMOTO
    auth = auth_of(state)
    assert auth.status is AuthorizationStatus.GRANTED
    [consent] = auth.consents
    assert consent.decision == "authorized"
    assert (consent.ip, consent.user_agent, consent.text_shown) == ("127.0.0.1", "test", CONSENT)
    assert auth.access_until == consent.at + 8 * HOUR
    state = await update(CaseWorkflow.start_remote_session, START)
    assert state.active_session is not None
    assert state.active_session.expires_at == auth.access_until
    state = await update(CaseWorkflow.end_remote_session, END)
    assert state.active_session is None
    assert state.sessions[0].outcome == "completed"
    state = await update(CaseWorkflow.resolve, resolve_with(REMOTE))
    assert state.stage is Stage.RESUELTO
    state = await case.settled()
    assert state.resolutions[0].methods == [REMOTE]
    assert auth_of(state).status is AuthorizationStatus.SUPERSEDED
    assert case.rec.event_types == words("""case_registered case_queued
        contact_logged stage_changed first_response remote_access_requested stage_changed
        remote_access_authorized stage_changed remote_session_started remote_session_ended
        remote_access_superseded case_resolved stage_changed""")
    assert case.rec.customer == REMOTE_MESSAGES
    assert case.team == ["case_queued", "remote_access_authorized"]


async def test_rejected_authorization_returns_to_contact(case: WorkflowCase) -> None:
    await drive_to(case, Stage.AUTORIZACION_REMOTA)
    await case.decide("rejected")
    state = await case.settled()
    assert state.stage is Stage.CONTACTO
    assert auth_of(state).status is AuthorizationStatus.REJECTED
    assert [c.decision for c in auth_of(state).consents] == ["rejected"]
    assert "remote_access_rejected" in case.rec.event_types
    assert ("agents", "remote_access_rejected") in [(n.audience, n.kind) for n in case.rec.team]
    assert "session_link" not in case.rec.customer


async def test_unanswered_authorization_expires_after_24_hours(case: WorkflowCase) -> None:
    await drive_to(case, Stage.AUTORIZACION_REMOTA)
    await case.env.sleep(24 * HOUR - MINUTE)
    assert (await case.state()).stage is Stage.AUTORIZACION_REMOTA
    await case.env.sleep(2 * MINUTE)
    state = await case.settled()
    assert state.stage is Stage.CONTACTO
    assert auth_of(state).status is AuthorizationStatus.EXPIRED
    assert "remote_access_expired" in case.rec.event_types
    assert ("agents", "remote_access_expired") in [(n.audience, n.kind) for n in case.rec.team]
    late = await case.refused(case.decide("authorized"))
    assert "contacto" in late.message


async def test_revocation_during_a_session_ends_it(case: WorkflowCase) -> None:
    update = case.update
    await drive_to(case, Stage.ACCESO_REMOTO)
    await update(CaseWorkflow.start_remote_session, START)
    await case.decide("revoked")
    state = await case.settled()
    [session] = state.sessions
    assert session.ended_at is not None
    assert session.outcome == "revoked_by_customer"
    assert state.stage is Stage.CONTACTO
    assert auth_of(state).status is AuthorizationStatus.REVOKED
    assert [c.decision for c in auth_of(state).consents] == ["authorized", "revoked"]
    assert "remote_access_revoked" in case.rec.event_types
    assert "remote_access_revoked" in case.team
    again = await case.refused(update(CaseWorkflow.start_remote_session, START))
    assert "contacto" in again.message


async def test_session_needs_authorization_and_ends_with_its_window(case: WorkflowCase) -> None:
    update = case.update
    await drive_to(case, Stage.CONTACTO)
    unauthorized = await case.refused(update(CaseWorkflow.start_remote_session, START))
    assert "contacto" in unauthorized.message
    await update(CaseWorkflow.request_remote_access, ASK_REMOTE)
    access_until = auth_of(await case.decide("authorized")).access_until
    assert access_until is not None
    await case.env.sleep(8 * HOUR - 15 * MINUTE)
    state = await update(CaseWorkflow.start_remote_session, START)
    assert state.active_session is not None
    assert state.active_session.expires_at == access_until
    await case.env.sleep(14 * MINUTE)
    assert (await case.state()).active_session is not None
    await case.env.sleep(2 * MINUTE)
    state = await case.state()
    [session] = state.sessions
    assert session.outcome == "expired"
    assert session.ended_at is not None
    assert access_until <= session.ended_at < access_until + MINUTE
    assert state.stage is Stage.CONTACTO
    assert auth_of(state).status is AuthorizationStatus.EXPIRED
    assert "remote_access_ended" in case.rec.event_types
    late = await case.refused(update(CaseWorkflow.start_remote_session, START))
    assert "contacto" in late.message


async def test_phone_then_remote_resolution(case: WorkflowCase) -> None:
    update = case.update
    await drive_to(case, Stage.RESOLUCION_TELEFONICA)
    state = await update(CaseWorkflow.request_remote_access, ASK_REMOTE)
    assert state.stage is Stage.AUTORIZACION_REMOTA
    state = await case.decide("authorized")
    assert state.stage is Stage.ACCESO_REMOTO
    await update(CaseWorkflow.start_remote_session, START)
    await update(CaseWorkflow.end_remote_session, END)
    await update(CaseWorkflow.resolve, resolve_with(PHONE, REMOTE))
    state = await case.settled()
    assert state.stage is Stage.RESUELTO
    assert state.resolutions[0].methods == [PHONE, REMOTE]
    assert case.rec.customer == REMOTE_MESSAGES


async def test_reopen_within_the_window(case: WorkflowCase) -> None:
    update = case.update
    await drive_to(case, Stage.RESUELTO)
    await case.env.sleep(2 * DAY)
    assert (await case.state()).stage is Stage.RESUELTO
    state = await update(CaseWorkflow.reopen, REOPEN)
    assert state.stage is Stage.CONTACTO
    assert state.resolved_at is state.reopen_until is None
    await update(CaseWorkflow.resolve, resolve_with(PHONE))
    state = await case.settled()
    assert state.stage is Stage.RESUELTO
    assert len(state.resolutions) == 2
    assert state.resolved_at is not None
    assert state.reopen_until == state.resolved_at + 5 * DAY
    assert "case_reopened" in case.rec.event_types
    assert "case_reopened" in case.team
    assert case.rec.customer == ["acknowledgement", "resolution", "resolution"]


async def test_case_closes_itself_after_the_reopen_window(case: WorkflowCase) -> None:
    await drive_to(case, Stage.RESUELTO)
    await case.env.sleep(5 * DAY - MINUTE)
    assert (await case.state()).stage is Stage.RESUELTO
    await case.env.sleep(2 * MINUTE)
    await case.handle.result()
    final = await case.state()
    assert (await case.state()).stage is final.stage is Stage.CERRADO
    assert final.closed_at is not None
    closes = [e for e in case.rec.events if e.type == "case_closed"]
    assert [(e.actor, e.data) for e in closes] == [("sistema", {"automatic": True})]
    with pytest.raises(RPCError) as gone:  # the run is over: nothing left to reopen
        await case.handle.execute_update(CaseWorkflow.reopen, REOPEN)
    assert gone.value.status is RPCStatusCode.NOT_FOUND


async def test_cancel_from_contact_completes_the_workflow(case: WorkflowCase) -> None:
    await drive_to(case, Stage.CONTACTO)
    await case.handle.execute_update(CaseWorkflow.cancel, CANCEL)
    await case.handle.result()
    final = await case.state()
    assert final.stage is Stage.CANCELADO
    assert final.cancelled_at is not None
    assert final.cancel_reason == CANCEL.reason
    assert case.rec.event_types[-2:] == ["case_cancelled", "stage_changed"]


async def test_cancel_is_refused_during_a_remote_session(case: WorkflowCase) -> None:
    await drive_to(case, Stage.ACCESO_REMOTO)
    await case.handle.execute_update(CaseWorkflow.start_remote_session, START)
    err = await case.refused(case.handle.execute_update(CaseWorkflow.cancel, CANCEL))
    state = await case.state()
    assert state.stage is Stage.ACCESO_REMOTO
    assert state.active_session is not None
    assert "acceso_remoto" in err.message
    assert "end_remote_session" in err.details[0]["allowed"]
    assert "cancel" not in err.details[0]["allowed"]


BASE = "contact change_severity change_plan"
ILLEGAL: dict[Stage, tuple[str, object, str]] = {  # stage: refused update, its input, allowed
    Stage.REGISTRO: ("close", Close(actor=AGENT), f"{BASE} cancel"),
    Stage.CONTACTO: ("start_remote_session", START, f"{BASE} cancel request_remote_access"),
    Stage.RESOLUCION_TELEFONICA: ("reopen", REOPEN, f"{BASE} cancel request_remote_access resolve"),
    Stage.AUTORIZACION_REMOTA: (
        "start_remote_session",
        START,
        f"{BASE} decide_remote_access cancel",
    ),
    Stage.ACCESO_REMOTO: (  # no session took place, so there is nothing to resolve with
        "resolve",
        resolve_with(REMOTE),
        f"{BASE} decide_remote_access cancel request_remote_access start_remote_session",
    ),
    Stage.RESUELTO: ("log_contact", EMAIL_SENT, "close reopen"),
}


@pytest.mark.parametrize("stage", list(ILLEGAL))
async def test_an_illegal_action_is_refused_in_every_stage(
    case: WorkflowCase, stage: Stage
) -> None:
    update, arg, allowed = ILLEGAL[stage]
    await drive_to(case, stage)
    err = await case.refused(case.handle.execute_update(update, arg))
    assert (await case.state()).stage is stage
    assert f"not allowed in stage {stage.value}" in err.message
    assert err.details[0] == {"stage": stage.value, "allowed": words(allowed)}


async def test_a_retried_request_is_applied_once(case: WorkflowCase) -> None:
    update = case.update
    r1, r2 = (EMAIL_SENT.model_copy(update={"request_id": r}) for r in ("r1", "r2"))
    first = await update(CaseWorkflow.log_contact, r1)
    retry = await update(CaseWorkflow.log_contact, r1)
    assert len(retry.contacts) == 1
    assert retry.revision == first.revision
    other = await update(CaseWorkflow.log_contact, r2)
    assert len(other.contacts) == 2
    assert case.rec.event_types.count("contact_logged") == 2


async def test_a_retried_decision_is_answered(case: WorkflowCase) -> None:
    await drive_to(case, Stage.AUTORIZACION_REMOTA)
    first = await case.decide("authorized", request_id="d1")
    retry = await case.decide("authorized", request_id="d1")
    assert retry.revision == first.revision
    assert len(auth_of(retry).consents) == 1


class RejectingAcknowledgement(Recorder):
    """The customer's address bounces the first message for good (SMTP 550)."""

    @activity.defn(name="send_customer_mail")
    async def send_customer_mail(self, mail: CustomerMail) -> None:
        if mail.kind == "acknowledgement":
            raise ApplicationError("550 no such mailbox", type="Undeliverable", non_retryable=True)
        await super().send_customer_mail(mail)


async def test_an_undeliverable_message_is_recorded_and_does_not_block(
    skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with workflow_case(skipping_env, task_queue, rec=RejectingAcknowledgement()) as case:
        await case.settled()
        await case.update(CaseWorkflow.log_contact, REACHED)
        await case.update(
            CaseWorkflow.resolve,
            Resolve(actor="ana", methods=[ResolutionMethod.PHONE], summary="ok"),
        )
        await case.settled()
    rec = case.rec
    failed = [e for e in rec.events if e.type == "message_undeliverable"]
    assert len(failed) == 1
    assert "550" in failed[0].data["reason"]
    assert rec.customer == ["resolution"]
    assert "message_undeliverable" in [n.kind for n in rec.team]
