"""A change as the delivery lanes carry it: the state's new revision with its events,
team notices and customer mails.

Called from workflow code only. Ids come from `new_id` (the workflow passes
`workflow.uuid4`), drawn in a fixed order (notices, then mails) because replay must
draw them again identically: later updates refer to them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from workflows.effects import Effects
from workflows.messages import Change, CustomerMail, EventRecord, TeamNotification, customer_mail
from workflows.models import CaseState


def change_of(
    fx: Effects, state: CaseState, now: datetime, new_id: Callable[[], str]
) -> tuple[Change, list[CustomerMail]]:
    """Bump `state`'s revision and package `fx` for the projection, notice and mail lanes."""
    state.revision += 1
    change = Change(
        revision=state.revision,
        at=now,
        events=[EventRecord(type=e.type, actor=e.actor, data=e.data) for e in fx.events],
        notices=[
            TeamNotification(
                notification_id=new_id(),
                case_id=state.case_id,
                audience=n.audience,
                kind=n.kind,
                message=n.message,
                queued_at=now,
            )
            for n in fx.notices
        ],
    )
    mails = [customer_mail(k, state, new_id(), now) for k in fx.customer]
    return change, mails
