"""The largest case a client can build stays far from Temporal's 2 MiB payload limit:
every text and list has a maximum (workflows/text.py), and so does each list of a case
(workflows/rules.py), so the state continue-as-new carries stays bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.mail import authorization_text
from tests.builders import case_input
from workflows.models import (
    AuthorizationStatus,
    CaseState,
    Consent,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    RemoteAccessKind,
    RemoteAuthorization,
    RemoteSession,
    Resolution,
    ResolutionMethod,
)
from workflows.text import (
    MAX_AUTHORIZATIONS,
    MAX_CONTACTS,
    MAX_RESOLUTIONS,
    MAX_SESSIONS,
)
from workflows.transitions import initial_state

NOW = datetime.now(UTC)
WIDE = "\U0001f600"  # four bytes in UTF-8: the worst case per character


def _widest_case() -> CaseState:
    state = initial_state(case_input(registered_at=NOW))
    state.description = WIDE * 8000
    name = WIDE * 200
    state.contacts = [
        ContactAttempt(
            attempt_id=f"{i:036d}",
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.NO_ANSWER,
            agent=name,
            note=WIDE * 1000,
            at=NOW,
        )
        for i in range(MAX_CONTACTS)
    ]
    reason = WIDE * 2000
    text = authorization_text(name, name, "control", state.case_id, reason, 8)
    consent = Consent(
        decision="authorized", at=NOW, ip="f" * 64, user_agent="u" * 500, text_shown=text
    )
    state.authorizations = [
        RemoteAuthorization(
            request_id=f"{i:036d}",
            access=RemoteAccessKind.CONTROL,
            reason=reason,
            agent=name,
            requested_at=NOW,
            expires_at=NOW,
            status=AuthorizationStatus.REVOKED,
            access_until=NOW,
            consents=[consent, consent.model_copy(update={"decision": "revoked"})],
        )
        for i in range(MAX_AUTHORIZATIONS)
    ]
    state.sessions = [
        RemoteSession(
            session_id=f"{i:036d}",
            request_id=f"{i:036d}",
            agent=name,
            started_at=NOW,
            expires_at=NOW,
            ended_at=NOW,
            outcome="completed",
            summary=WIDE * 2000,
        )
        for i in range(MAX_SESSIONS)
    ]
    state.resolutions = [
        Resolution(methods=[ResolutionMethod.PHONE], summary=WIDE * 2000, agent=name, at=NOW)
        for _ in range(MAX_RESOLUTIONS)
    ]
    return state


def test_the_largest_case_a_client_can_build_stays_far_from_the_payload_limit() -> None:
    size = len(json.dumps(_widest_case().model_dump(mode="json"), ensure_ascii=False).encode())
    assert size < 1024 * 1024  # half of Temporal's 2 MiB payload limit
