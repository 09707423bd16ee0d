"""The case written once (issue 11), for HTTP bodies: each action's request body is the
workflow command it becomes, less who acts.

The pairs are read from the routes themselves (`api/routers/cases.py`: the `body`
parameter's model and the command the route sends), so a new action, or a field added to
a command but not to its body (or the other way round), fails here. The acting identity
is the authenticated key's, never the client's: `actor` and `agent_name` are set by the
API, and a body's optional `agent` may only name the caller.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest
from pydantic import BaseModel

from api import schemas
from api.routers import cases
from workflows import models
from workflows.messages import CaseInput

SET_BY_THE_API = {"actor", "agent_name"}
ONLY_IN_BODIES = {"agent"}


def _pairs() -> dict[str, tuple[type[BaseModel], type[BaseModel]]]:
    """route name -> (body model, command model), from the routes' source."""
    tree = ast.parse(inspect.getsource(cases))
    found: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {}
    for node in tree.body:
        if not isinstance(node, ast.AsyncFunctionDef):
            continue
        sends = [
            call
            for call in ast.walk(node)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "send"
        ]
        if not sends:
            continue
        command = sends[0].args[2]
        body = next(a for a in node.args.args if a.arg == "body").annotation
        assert isinstance(command, ast.Name)
        assert body is not None
        body_name = ast.unparse(body).split("|")[0].strip()  # `CloseIn | None`: CloseIn
        found[node.name] = (getattr(schemas, body_name), getattr(models, command.id))
    return found


def _shape(model: type[BaseModel], leave_out: set[str]) -> dict[str, Any]:
    """Each field's type, constraints and whether it is required."""
    return {
        name: (field.annotation, field.metadata, field.is_required())
        for name, field in model.model_fields.items()
        if name not in leave_out
    }


def test_every_action_route_was_found() -> None:
    assert len(_pairs()) == 10  # contacts ... plan: every POST /cases/{id}/...


@pytest.mark.parametrize(("route", "pair"), sorted(_pairs().items()))
def test_an_action_body_is_its_command_less_who_acts(
    route: str, pair: tuple[type[BaseModel], type[BaseModel]]
) -> None:
    body, command = pair
    assert _shape(body, ONLY_IN_BODIES) == _shape(command, SET_BY_THE_API), route


def test_the_intake_is_the_case_input_less_what_the_api_decides() -> None:
    shared = set(schemas.CaseCreate.model_fields) & set(CaseInput.model_fields)
    assert shared == {"customer", "plan", "summary", "description", "affected_services", "severity"}
    for name in shared - {"customer", "severity"}:
        intake, case = schemas.CaseCreate.model_fields[name], CaseInput.model_fields[name]
        assert (intake.annotation, intake.metadata) == (case.annotation, case.metadata), name
    # The customer as given is the case's customer, with the same fields and checks.
    assert issubclass(schemas.CustomerIn, models.Customer)
    assert _shape(schemas.CustomerIn, set()) == _shape(models.Customer, set())
