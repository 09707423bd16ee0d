"""How the case workflow says no, so the API can tell one refusal from another.

Every refusal is a non-retryable `ApplicationError` whose `type` is one of these names
and whose details carry the stage and the actions allowed there: the API maps the type
to its HTTP status (`api.workflow_gateway`) without parsing the message.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from workflows import consent
from workflows.models import CaseState, DecideRemoteAccess

ACTION_NOT_ALLOWED = "ActionNotAllowed"
REQUEST_ID_REUSED = "RequestIdReused"
CONTINUING_AS_NEW = "ContinuingAsNew"
CONSENT_NOT_PROVEN = "ConsentNotProven"


def refused(message: str, state: CaseState, allowed: list[str], kind: str) -> ApplicationError:
    """A refusal of kind `kind`; `allowed` lists what the caller may do instead."""
    return ApplicationError(
        message, {"stage": state.stage.value, "allowed": allowed}, type=kind, non_retryable=True
    )


def check_decision(state: CaseState, cmd: DecideRemoteAccess) -> None:
    """Refuse a customer's decision on a request that is not open for it: a grant or a
    rejection needs the pending request, a revocation the granted one."""
    auth = state.authorization
    expected = "granted" if cmd.decision == "revoked" else "pending"
    if auth is None or auth.request_id != cmd.authorization_id or auth.status != expected:
        status = auth.status.value if auth else "none"
        raise refused(
            f"this authorization request cannot be {cmd.decision} now (its status is {status})",
            state,
            [],
            ACTION_NOT_ALLOWED,
        )


def check_consent(state: CaseState, cmd: DecideRemoteAccess) -> None:
    """Refuse a decision that did not come from the customer's own consent page.

    Anyone who can reach Temporal can send an update: the page's signature over the case,
    request, decision and text shown (`workflows.consent`) and the customer as actor are
    what make it the customer's.
    """
    proven = cmd.actor == f"cliente:{state.customer.id}" and consent.verify(
        state.case_id, cmd.authorization_id, cmd.decision, cmd.text_shown, cmd.proof or ""
    )
    if not proven:
        raise refused(
            "only the customer's own page can decide on remote access",
            state,
            [],
            CONSENT_NOT_PROVEN,
        )
