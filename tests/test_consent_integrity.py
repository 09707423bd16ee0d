"""Only the customer decides about remote access, by any path: the API, Temporal
directly, or a request id chosen to collide with the customer's."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.messaging import Messaging
from core.mail import Mailer
from tests.builders import CONSENT
from tests.customer import LINK, decide, outcome, requested, stage
from tests.stack import ApiStack
from workflows import consent
from workflows.case import CaseWorkflow
from workflows.effects import CustomerMessage
from workflows.messages import customer_mail
from workflows.models import DecideRemoteAccess
from workflows.refusals import CONSENT_NOT_PROVEN

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _authorization_id(stack: ApiStack, case_id: str) -> str:
    r = await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ops"))
    auth_id: str = r.json()["authorizations"][-1]["request_id"]
    return auth_id


def _decision(case_id: str, auth_id: str, decision: str, **changes: object) -> DecideRemoteAccess:
    body: dict[str, object] = {
        "actor": "cliente:C-7",
        "authorization_id": auth_id,
        "decision": decision,
        "text_shown": CONSENT,
        "proof": consent.sign(case_id, auth_id, decision, CONSENT),
    }
    return DecideRemoteAccess.model_validate(body | changes)


@pytest.mark.parametrize(
    "forgery",
    [
        {"proof": None},  # what the Temporal UI or a script would send
        {"proof": "0" * 64},
        {"actor": "ana"},  # a valid proof, but not sent for the customer
        {"text_shown": "Texto que el cliente nunca vio"},  # proof over another text
    ],
    ids=["no-proof", "made-up-proof", "agent-as-actor", "other-text"],
)
async def test_consent_cannot_be_forged_through_temporal(
    stack: ApiStack, local_env: WorkflowEnvironment, forgery: dict[str, object]
) -> None:
    case, _ = await requested(stack)
    case_id = case["case_id"]
    auth_id = await _authorization_id(stack, case_id)
    handle = local_env.client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    forged = _decision(case_id, auth_id, "authorized", **forgery)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(CaseWorkflow.decide_remote_access, forged)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == CONSENT_NOT_PROVEN
    assert await stage(stack, case_id) == "autorizacion_remota"
    r = await stack.act(case_id, "remote-session/start")
    assert r.status_code == 409


async def test_a_proof_for_one_decision_is_no_proof_for_another(
    stack: ApiStack, local_env: WorkflowEnvironment
) -> None:
    case, _ = await requested(stack)
    case_id = case["case_id"]
    auth_id = await _authorization_id(stack, case_id)
    rejected_proof = consent.sign(case_id, auth_id, "rejected", CONSENT)
    handle = local_env.client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    forged = _decision(case_id, auth_id, "authorized", proof=rejected_proof)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(CaseWorkflow.decide_remote_access, forged)
    assert await stage(stack, case_id) == "autorizacion_remota"


async def test_an_agent_cannot_neutralise_the_customers_revocation(stack: ApiStack) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    assert (await decide(stack, path, "autorizar")).status_code == 200
    auth_id = await _authorization_id(stack, case_id)
    # The agent sends, first, the request id the customer's page will use to revoke.
    r = await stack.act(
        case_id,
        "contacts",
        {"channel": "email", "outcome": "sent", "request_id": f"{auth_id}:revoked"},
    )
    assert r.status_code == 200
    r = await decide(stack, path, "revocar")
    assert r.status_code == 200
    assert "Autorización revocada" in r.text
    assert await stage(stack, case_id) == "contacto"
    live = await stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ops"))
    assert live.json()["authorizations"][-1]["status"] == "revoked"


async def test_a_retry_is_answered_and_a_reused_id_with_another_body_is_refused(
    stack: ApiStack,
) -> None:
    case = await stack.open_case()
    case_id = case["case_id"]
    body = {"channel": "phone", "outcome": "no_answer", "request_id": "call-1"}
    first = await stack.act(case_id, "contacts", body)
    again = await stack.act(case_id, "contacts", body)
    assert first.status_code == again.status_code == 200
    assert len(again.json()["contacts"]) == 1
    assert again.json()["revision"] == first.json()["revision"]
    other = await stack.act(case_id, "contacts", body | {"outcome": "voicemail"})
    assert other.status_code == 409
    assert "call-1" in other.json()["detail"]
    # The same id for another action is another request: it is not shadowed.
    r = await stack.act(case_id, "cancel", {"reason": "duplicado", "request_id": "call-1"})
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "cancelado"


async def test_a_used_link_replayed_40_times_at_once_does_not_hold_up_agents(
    stack: ApiStack,
) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    assert (await decide(stack, path, "rechazar")).status_code == 200
    replays = [decide(stack, path, "autorizar") for _ in range(40)]
    agent_read = stack.http.get(f"/cases/{case_id}", headers=stack.auth("key-ana"))
    *answers, read = await asyncio.gather(*replays, agent_read)
    assert read.status_code == 200
    assert read.json()["authorizations"][-1]["status"] == "rejected"
    assert {(a.history[0].status_code, outcome(a)) for a in answers} == {(303, "no")}


async def test_a_resent_authorization_mail_keeps_the_first_link_working(
    stack: ApiStack, local_env: WorkflowEnvironment
) -> None:
    case, path = await requested(stack)
    case_id = case["case_id"]
    state = await local_env.client.get_workflow_handle_for(CaseWorkflow.run, case_id).query(
        CaseWorkflow.state
    )
    mail = customer_mail(CustomerMessage.AUTHORIZATION_REQUEST, state, "resend")
    async with stack.services.store.pool.connection() as conn:
        # What a crash between the SMTP hand-off and its record leaves: no record.
        await conn.execute("DELETE FROM outbound_emails WHERE message_id = %s", (mail.mail_id,))
    messaging = Messaging(
        stack.services.store.pool, Mailer(stack.settings), stack.settings, "Europe/Madrid"
    )
    await messaging.send_customer_mail(mail)  # the activity's retry
    mails = [m for m in stack.inbox.to(case["customer"]["email"]) if "autoriza" in m["Subject"]]
    assert len(mails) == 2
    found = [LINK.search(str(m.get_body(preferencelist=("plain",)))) for m in mails]
    assert {f.group(1) for f in found if f is not None} == {path}
    assert all(found)
    assert (await stack.http.get(path)).status_code == 200
    assert (await decide(stack, path, "autorizar")).status_code == 200
