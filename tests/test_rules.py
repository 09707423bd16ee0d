"""The lifecycle rules as pure functions: cases the Temporal tests cannot set up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.builders import case_input
from workflows import transitions as tr
from workflows.case import initial_state
from workflows.deadlines import pending
from workflows.models import (
    CaseState,
    ContactChannel,
    ContactOutcome,
    LogContact,
    RemoteAccessKind,
    RequestRemoteAccess,
)
from workflows.rules import Action, allowed_actions, refusal

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _waiting_for_customer() -> CaseState:
    state = initial_state(case_input(registered_at=NOW))
    tr.log_contact(
        state,
        LogContact(actor="ana", channel=ContactChannel.EMAIL, outcome=ContactOutcome.SENT),
        NOW,
        "a1",
    )
    tr.request_remote(
        state,
        RequestRemoteAccess(actor="ana", reason="r", access=RemoteAccessKind.VIEW),
        NOW,
        "req-1",
    )
    return state


def test_a_pending_request_cannot_be_decided_once_expired() -> None:
    # The SDK validates an update before a timer firing in the same workflow task, so
    # the rule itself must compare with the expiry, not rely on the timer having run.
    state = _waiting_for_customer()
    auth = state.authorization
    assert auth is not None
    assert Action.DECIDE_REMOTE_ACCESS in allowed_actions(
        state, auth.expires_at - timedelta(seconds=1)
    )
    assert Action.DECIDE_REMOTE_ACCESS not in allowed_actions(state, auth.expires_at)


def test_refusal_names_stage_and_allowed_actions() -> None:
    state = _waiting_for_customer()
    message = refusal(state, Action.CLOSE, NOW)
    assert message is not None
    assert "stage autorizacion_remota" in message
    assert "decide_remote_access" in message
    assert refusal(state, Action.CONTACT, NOW) is None


def test_deadlines_follow_the_state() -> None:
    state = _waiting_for_customer()
    labels = [label for _, label in pending(state)]
    assert any("autorización" in label for label in labels)
    # The email counted as the first response: no SLA timers remain.
    assert not any("SLA" in label for label in labels)
