"""How the case workflow says no, so the API can tell one refusal from another.

Every refusal is a non-retryable `ApplicationError` whose `type` is one of these names
and whose details carry the stage and the actions allowed there: the API maps the type
to its HTTP status (`api.workflow_gateway`) without parsing the message.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from workflows.models import CaseState

ACTION_NOT_ALLOWED = "ActionNotAllowed"
REQUEST_ID_REUSED = "RequestIdReused"
CONTINUING_AS_NEW = "ContinuingAsNew"
CONSENT_NOT_PROVEN = "ConsentNotProven"


def refused(message: str, state: CaseState, allowed: list[str], kind: str) -> ApplicationError:
    """A refusal of kind `kind`; `allowed` lists what the caller may do instead."""
    return ApplicationError(
        message, {"stage": state.stage.value, "allowed": allowed}, type=kind, non_retryable=True
    )
