"""Custom search attributes that ops filter on in the Temporal UI.

The SQL visibility store allows at most 3 Datetime and 10 Keyword custom attributes,
so this list is deliberately short. `DEFINITIONS` is what the dev stack, the tests and
docker-compose register; a workflow that upserts an unregistered one fails its task.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from workflows.domain import SlaState
from workflows.models import CaseState

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_SEVERITY = SearchAttributeKey.for_keyword("CaseSeverity")
CASE_PLAN = SearchAttributeKey.for_keyword("CasePlan")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
SLA_STATE = SearchAttributeKey.for_keyword("SlaState")
CASE_QUEUE = SearchAttributeKey.for_keyword("CaseQueue")
# "behind" while the read model in PostgreSQL cannot keep up with the case (set by the
# projection lane, not with the others, so a change never waits for PostgreSQL).
PROJECTION_STATE = SearchAttributeKey.for_keyword("ProjectionState")
SLA_RESPONSE_DUE = SearchAttributeKey.for_datetime("SlaResponseDue")
SLA_WARNING_AT = SearchAttributeKey.for_datetime("SlaWarningAt")

KEYWORDS = (
    CASE_STAGE,
    CASE_SEVERITY,
    CASE_PLAN,
    CUSTOMER_ID,
    SLA_STATE,
    CASE_QUEUE,
    PROJECTION_STATE,
)
DATETIMES = (SLA_RESPONSE_DUE, SLA_WARNING_AT)
# Name -> type as the `temporal` CLI spells it (`--search-attribute Name=Type`).
DEFINITIONS = {k.name: "Keyword" for k in KEYWORDS} | {k.name: "Datetime" for k in DATETIMES}


def _when(key: SearchAttributeKey[datetime], value: datetime | None) -> SearchAttributeUpdate[Any]:
    return key.value_unset() if value is None else key.value_set(value)


def search_attribute_updates(state: CaseState) -> list[SearchAttributeUpdate[Any]]:
    """Every search attribute as the case now sets it (version 1 upserts them all on each change;
    `SearchIndex` only those that changed).

    An absent instant unsets its attribute instead of leaving a stale one, so filtering on
    `SlaResponseDue` never finds a case without a commitment.
    """
    c = state.sla.commitment
    return [
        CASE_STAGE.value_set(state.stage.value),
        CASE_SEVERITY.value_set(state.severity.value),
        CASE_PLAN.value_set(state.plan.value),
        CUSTOMER_ID.value_set(state.customer.id),
        SLA_STATE.value_set(state.sla.state.value),
        # "agents" once the case is workable (24/7 at once, business hours at attention).
        CASE_QUEUE.value_set("agents" if state.queued_at is not None else "waiting"),
        _when(SLA_RESPONSE_DUE, c.response_due),
        _when(SLA_WARNING_AT, c.warning_at),
    ]


def case_details(state: CaseState, now: datetime) -> str:
    """The case at a glance, for the Temporal UI's current details (Markdown).

    The time left is as of `now`, the last change; the absolute due time sits beside it.
    """
    c = state.sla.commitment
    lines = [f"**Etapa:** {state.stage.value}", f"**SLA:** {state.sla.state.value}"]
    if state.sla.state is SlaState.PENDING and c.response_due is not None:
        mins = int((c.response_due - now).total_seconds() // 60)
        lines.append(f"**Tiempo restante:** {mins} min (vence {c.response_due.isoformat()})")
    auth = state.authorization
    if auth is not None and auth.status.value in ("pending", "granted"):
        lines.append(f"**Autorización remota:** {auth.status.value} ({auth.access.value})")
    return "  \n".join(lines)


class SearchIndex:
    """Upserts only the search attributes that changed since the last upsert: each
    upsert is a history event, and most changes (a contact) touch none or one."""

    def __init__(self) -> None:
        self._indexed: dict[str, object] = {}

    def upsert(self, state: CaseState) -> None:
        """Called from workflow code after every change of `state`."""
        changed = [
            u for u in search_attribute_updates(state) if self._indexed.get(u.key.name) != u.value
        ]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._indexed |= {u.key.name: u.value for u in changed}
