"""The Spanish words for the case's values are defined once (`core.labels`) and cover
every value the workflows can hold; mails and pages say them alike."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

import jinja2
import pytest

from api.customer_view import authorization_view, page_context
from core import labels
from core.mail import add_filters
from core.store import AuthorizationLink
from tests import pure_cases as pc
from workflows.domain import Availability, Plan, Severity, Stage
from workflows.models import RemoteAccessKind, ResolutionMethod


@pytest.mark.parametrize(
    ("enum", "mapping"),
    [
        (Plan, labels.PLAN_LABELS),
        (Severity, labels.SEVERITY_LABELS),
        (Stage, labels.STAGE_LABELS),
        (RemoteAccessKind, labels.ACCESS_LABELS),
        (ResolutionMethod, labels.METHOD_LABELS),
        (Availability, labels.AVAILABILITY_LABELS),
    ],
)
def test_every_value_has_one_label(enum: type[StrEnum], mapping: dict[str, str]) -> None:
    assert set(mapping) == {m.value for m in enum}
    assert all(mapping[m.value] for m in enum)


@pytest.mark.parametrize("kind", list(RemoteAccessKind))
def test_mails_and_pages_name_an_access_kind_alike(kind: RemoteAccessKind) -> None:
    env = jinja2.Environment(autoescape=True)
    add_filters(env)  # the mails' filters, which the API's pages share
    in_mail = env.from_string("{{ access|access_label }}").render(access=kind.value)
    state = pc.registered()
    pc.emailed(state)
    pc.request(state, access=kind)
    link = AuthorizationLink(
        request_id="req-1", case_id=state.case_id, access=kind.value, reason="r", agent="a",
        access_hours=8, text_shown="t", expires_at=pc.NOW + timedelta(hours=24),
    )  # fmt: skip
    view = authorization_view(state, "req-1", pc.NOW)
    on_page = page_context(view, state, "Europe/Madrid", "/autorizacion/x", None, link)
    assert in_mail == on_page["access_label"] == labels.ACCESS_LABELS[kind]


def test_an_unknown_access_kind_is_an_error_not_a_label() -> None:
    with pytest.raises(ValueError, match="unknown remote access kind"):
        labels.access_label("full")
