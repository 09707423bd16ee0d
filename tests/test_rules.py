"""The lifecycle rules of workflows/rules.py as pure functions: which action each stage
allows, in order, at the instants where that changes, the per-case caps, and the exact
sentence an agent gets when an action is refused."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.pure_cases import (
    NOW,
    SECOND,
    contact,
    decide,
    emailed,
    end,
    granted,
    in_session,
    registered,
    request,
    resolve,
    resolved,
    start,
)
from workflows import transitions as tr
from workflows.deadlines import fire_due, pending
from workflows.models import CaseState, ContactOutcome, ResolutionMethod
from workflows.rules import (
    Action,
    allowed_actions,
    authorization_usable,
    possible_methods,
    refusal,
)

HOUR = timedelta(hours=1)
ALWAYS = ["contact", "change_severity", "change_plan"]


def allowed(state: CaseState, at: datetime = NOW) -> list[str]:
    return [a.value for a in allowed_actions(state, at)]


def waiting_for_customer() -> CaseState:
    state = registered()
    emailed(state)
    request(state)
    return state


def test_a_pending_request_cannot_be_decided_once_expired() -> None:
    # The SDK validates an update before a timer firing in the same workflow task, so
    # the rule itself must compare with the expiry, not rely on the timer having run.
    state = waiting_for_customer()
    expires_at = NOW + HOUR
    assert Action.DECIDE_REMOTE_ACCESS in allowed_actions(state, expires_at - SECOND)
    assert Action.DECIDE_REMOTE_ACCESS not in allowed_actions(state, expires_at)
    assert Action.DECIDE_REMOTE_ACCESS not in allowed_actions(state, expires_at + SECOND)


def test_deadlines_follow_the_state() -> None:
    state = waiting_for_customer()
    # The email counted as the first response: no SLA timers remain.
    assert [label for _, label in pending(state)] == ["Caduca la solicitud de autorización remota"]


def test_every_stage_allows_its_actions_in_order() -> None:
    state = registered()
    assert allowed(state) == [*ALWAYS, "cancel"]
    emailed(state)
    assert allowed(state) == [*ALWAYS, "cancel", "request_remote_access"]
    request(state)
    assert allowed(state) == [*ALWAYS, "decide_remote_access", "cancel"]
    decide(state, "authorized")
    assert allowed(state) == [
        *ALWAYS,
        "decide_remote_access",
        "cancel",
        "request_remote_access",
        "start_remote_session",
    ]
    start(state)
    assert allowed(state) == [*ALWAYS, "decide_remote_access", "end_remote_session"]
    end(state)
    assert allowed(state) == [
        *ALWAYS,
        "decide_remote_access",
        "cancel",
        "request_remote_access",
        "start_remote_session",
        "resolve",
    ]
    resolve(state, methods=(ResolutionMethod.REMOTE,))
    assert allowed(state) == ["close", "reopen"]
    tr.close(state, "ana", NOW, automatic=False)
    assert allowed(state) == []


def test_phone_resolution_allows_resolving() -> None:
    state = registered()
    contact(state)
    assert allowed(state) == [*ALWAYS, "cancel", "request_remote_access", "resolve"]


def test_waiting_for_authorization_does_not_allow_resolving() -> None:
    state = registered()
    contact(state)
    request(state)
    assert possible_methods(state) == {ResolutionMethod.PHONE}
    assert allowed(state) == [*ALWAYS, "decide_remote_access", "cancel"]


def test_a_cancelled_case_allows_nothing() -> None:
    state = registered()
    tr.cancel(state, "ana", "Duplicado", NOW)
    assert allowed(state) == []
    assert refusal(state, Action.CONTACT, NOW) == (
        "contact is not allowed in stage cancelado; allowed: none"
    )


def test_reopening_ends_with_the_window() -> None:
    state = resolved()
    end_of_window = NOW + 24 * HOUR
    assert allowed(state, end_of_window - SECOND) == ["close", "reopen"]
    assert allowed(state, end_of_window) == ["close"]
    assert allowed(state, end_of_window + SECOND) == ["close"]
    assert refusal(state, Action.REOPEN, end_of_window) == (
        "reopen is not allowed in stage resuelto after the reopen window ended; allowed: close"
    )


def test_a_session_cannot_start_at_the_instant_access_ends() -> None:
    state = granted()
    access_until = NOW + 2 * HOUR
    assert authorization_usable(state, access_until - SECOND)
    assert Action.START_REMOTE_SESSION in allowed_actions(state, access_until - SECOND)
    assert not authorization_usable(state, access_until)
    assert not authorization_usable(state, access_until + SECOND)
    assert refusal(state, Action.START_REMOTE_SESSION, access_until) == (
        "start_remote_session is not allowed in stage acceso_remoto without a valid, "
        "unexpired, unrevoked authorization from the customer; allowed: contact, "
        "change_severity, change_plan, decide_remote_access, cancel, request_remote_access"
    )
    # The customer may still revoke until the end-of-access deadline has fired.
    fire_due(state, access_until)
    assert allowed(state, access_until) == [*ALWAYS, "cancel", "request_remote_access"]


def test_authorization_usable_needs_a_granted_authorization() -> None:
    state = registered()
    assert not authorization_usable(state, NOW)
    emailed(state)
    request(state)
    assert not authorization_usable(state, NOW)  # pending
    decide(state, "authorized")
    assert authorization_usable(state, NOW)
    decide(state, "revoked")
    assert not authorization_usable(state, NOW)


def test_possible_methods_need_a_reaching_call_or_a_finished_session() -> None:
    state = registered()
    emailed(state)
    contact(state, outcome=ContactOutcome.NO_ANSWER, attempt_id="att-2")
    contact(state, outcome=ContactOutcome.VOICEMAIL, attempt_id="att-3")
    assert possible_methods(state) == set()
    phone = registered()
    contact(phone)
    assert possible_methods(phone) == {ResolutionMethod.PHONE}
    remote = in_session()
    assert possible_methods(remote) == set()  # still running
    end(remote)
    assert possible_methods(remote) == {ResolutionMethod.REMOTE}
    contact(remote, attempt_id="att-2")
    assert possible_methods(remote) == {ResolutionMethod.PHONE, ResolutionMethod.REMOTE}


def test_refusal_is_none_for_an_allowed_action() -> None:
    state = waiting_for_customer()
    for action in allowed_actions(state, NOW):
        assert refusal(state, action, NOW) is None


def test_refusal_names_stage_and_allowed_actions() -> None:
    state = waiting_for_customer()
    assert refusal(state, Action.CLOSE, NOW) == (
        "close is not allowed in stage autorizacion_remota; allowed: contact, "
        "change_severity, change_plan, decide_remote_access, cancel"
    )


def test_refusal_says_why_a_session_cannot_start_only_in_remote_access() -> None:
    state = waiting_for_customer()
    assert refusal(state, Action.START_REMOTE_SESSION, NOW) == (
        "start_remote_session is not allowed in stage autorizacion_remota; allowed: contact, "
        "change_severity, change_plan, decide_remote_access, cancel"
    )


def test_refusal_says_resolving_needs_a_method() -> None:
    state = registered()
    emailed(state)
    assert refusal(state, Action.RESOLVE, NOW) == (
        "resolve is not allowed in stage contacto before the customer was reached by phone "
        "or a remote session took place; allowed: contact, change_severity, change_plan, "
        "cancel, request_remote_access"
    )


def test_refusal_to_resolve_while_waiting_for_authorization_names_only_the_stage() -> None:
    state = registered()
    contact(state)
    request(state)
    assert refusal(state, Action.RESOLVE, NOW) == (
        "resolve is not allowed in stage autorizacion_remota; allowed: contact, "
        "change_severity, change_plan, decide_remote_access, cancel"
    )


def test_refusal_to_reopen_outside_resolution_names_only_the_stage() -> None:
    state = registered()
    assert refusal(state, Action.REOPEN, NOW) == (
        "reopen is not allowed in stage registro; allowed: contact, change_severity, "
        "change_plan, cancel"
    )


def test_refusal_during_a_session_allows_only_ending_it() -> None:
    state = in_session()
    assert refusal(state, Action.CANCEL, NOW) == (
        "cancel is not allowed in stage acceso_remoto; allowed: contact, change_severity, "
        "change_plan, decide_remote_access, end_remote_session"
    )


def test_at_most_60_contacts() -> None:
    state = registered()
    for n in range(59):
        emailed(state, NOW + n * SECOND)
    assert Action.CONTACT in allowed_actions(state, NOW)
    emailed(state)
    assert len(state.contacts) == 60
    assert allowed(state) == ["change_severity", "change_plan", "cancel", "request_remote_access"]
    assert refusal(state, Action.CONTACT, NOW) == (
        "this case already has the maximum of 60 contacts; allowed: change_severity, "
        "change_plan, cancel, request_remote_access"
    )


def test_at_most_10_remote_access_requests() -> None:
    state = registered()
    emailed(state)
    for n in range(9):
        request(state, request_id=f"req-{n}")
        assert Action.REQUEST_REMOTE_ACCESS not in allowed_actions(state, NOW)  # stage
        decide(state, "rejected")
    assert Action.REQUEST_REMOTE_ACCESS in allowed_actions(state, NOW)
    request(state, request_id="req-9")
    decide(state, "rejected")
    assert len(state.authorizations) == 10
    assert allowed(state) == [*ALWAYS, "cancel"]
    assert refusal(state, Action.REQUEST_REMOTE_ACCESS, NOW) == (
        "this case already has the maximum of 10 authorizations; allowed: contact, "
        "change_severity, change_plan, cancel"
    )


def test_at_most_10_sessions() -> None:
    state = granted()
    for n in range(9):
        start(state, session_id=f"ses-{n}")
        end(state)
    assert Action.START_REMOTE_SESSION in allowed_actions(state, NOW)
    start(state, session_id="ses-9")
    end(state)
    assert len(state.sessions) == 10
    assert Action.START_REMOTE_SESSION not in allowed_actions(state, NOW)
    assert refusal(state, Action.START_REMOTE_SESSION, NOW) == (
        "this case already has the maximum of 10 sessions; allowed: contact, "
        "change_severity, change_plan, decide_remote_access, cancel, request_remote_access, "
        "resolve"
    )


def test_at_most_10_resolutions() -> None:
    state = registered()
    contact(state)
    for _ in range(9):
        resolve(state)
        assert Action.REOPEN in allowed_actions(state, NOW)
        tr.reopen(state, "ana", "Vuelve a fallar")
    resolve(state)
    assert len(state.resolutions) == 10
    assert allowed(state) == ["close"]
    assert refusal(state, Action.REOPEN, NOW) == (
        "this case already has the maximum of 10 resolutions; allowed: close"
    )


@pytest.mark.parametrize(
    "action",
    [Action.CHANGE_SEVERITY, Action.CHANGE_PLAN, Action.CANCEL, Action.RESOLVE, Action.CLOSE],
)
def test_uncapped_actions_are_never_refused_for_size(action: Action) -> None:
    state = registered()
    for n in range(60):
        contact(state, NOW + n * SECOND)
    message = refusal(state, action, NOW)
    assert message is None or "maximum" not in message
