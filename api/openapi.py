"""What the OpenAPI document says beyond what FastAPI reads from the models: the rules
the models check in code, as JSON Schema, and every error a route can answer.

A client integrates from the document alone (tests/test_contract.py holds the API to it
with schemathesis), so a request the schema accepts is never refused with 400 or 422,
and one it refuses is never taken. The text rules of `workflows.text` are validator
functions; here each becomes the `pattern` that says the same, attached to the fields
that use it (`text_rules`, a `json_schema_extra` of the request models).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from string import ascii_lowercase
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.examples import EXAMPLES, NAMED_EXAMPLES
from workflows.text import no_controls, plain, sendable_address

JsonDict = dict[str, Any]

# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
NO_CONTROLS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# One line, nothing invisible: no control at all, no bidirectional override or isolate,
# no zero-width character.
PLAIN = r"^[^\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*$"


def _letters_except(words: list[str], length: int) -> str:
    """`length` letters (either case) that spell none of `words`, without lookaheads
    (which generators such as Hypothesis can only meet by filtering)."""

    def rest(group: list[str], pos: int) -> str:
        firsts = sorted({w[pos] for w in group})
        others = _ranges([ord(c) for c in ascii_lowercase if c not in firsts])
        tail = length - pos - 1
        alternatives = [f"[{others}{others.upper()}]" + (f"[A-Za-z]{{{tail}}}" if tail else "")]
        for c in firsts:
            if tail:
                sub = [w for w in group if w[pos] == c]
                alternatives.append(f"[{c}{c.upper()}]" + rest(sub, pos + 1))
        return "(" + "|".join(alternatives) + ")"

    same = [w for w in words if len(w) == length]
    return rest(same, 0) if same else f"[A-Za-z]{{{length}}}"


def _email_pattern() -> str:
    """What `workflows.text.sendable_address` accepts, without its rarities (quoted local
    parts, internationalised domains, top-level domains with digits): an ASCII dot-atom
    of at most 64 characters, then labels that never hold `--` (Punycode's mark), and a
    top-level domain of letters that is not a special-use name."""
    atext = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
    local = rf"{atext}{{1,30}}(\.{atext}{{1,16}}){{0,2}}"
    label = r"[A-Za-z0-9]{1,20}(-[A-Za-z0-9]{1,20}){0,2}"
    special = ["arpa", "invalid", "local", "localhost", "onion", "test"]
    lengths = sorted({len(w) for w in special})
    tlds = [_letters_except(special, n) for n in lengths]
    free = [n for n in range(2, 64) if n not in lengths]
    tlds += [f"[A-Za-z]{{{a},{b}}}" for a, b in _runs(free)]
    return rf"^{local}@({label}\.){{1,3}}({'|'.join(tlds)})$"


def _ranges(codes: list[int]) -> str:
    """Characters as a class's ranges: a-c, e, g-z."""
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in _runs(codes))


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


EMAIL = _email_pattern()

_RULES: dict[Callable[[str], str], JsonDict] = {
    no_controls: {"pattern": NO_CONTROLS},
    plain: {"pattern": PLAIN},
    sendable_address: {
        "format": "email",
        "pattern": EMAIL,
        "description": "an address our mailer can deliver to: an ASCII local part",
    },
}


def _rules_of(metadata: tuple[Any, ...] | list[Any]) -> JsonDict:
    found: JsonDict = {}
    for item in metadata:
        rule = _RULES.get(getattr(item, "func", None))  # type: ignore[arg-type]
        if rule is not None:
            found |= rule
    return found


def _apply(annotation: Any, schema: JsonDict) -> None:
    """Adds the rules the annotation's validators check to the string schemas it makes
    (through Optional and lists)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        if schema.get("type") == "string":
            schema.update(_rules_of(metadata))
        _apply(base, schema)
    elif origin in (Union, types.UnionType):
        branches = [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]
        for arg in get_args(annotation):
            if arg is not type(None):
                for branch in branches:
                    _apply(arg, branch)
    elif origin is list and "items" in schema:
        _apply(get_args(annotation)[0], schema["items"])


def text_rules(schema: JsonDict, cls: type[BaseModel]) -> None:
    """`json_schema_extra` of a request model: each text field's rules as JSON Schema."""
    properties: dict[str, JsonDict] = schema.get("properties", {})
    for name, field in cls.model_fields.items():
        prop = properties.get(field.alias or name)
        if prop is None:
            continue
        if prop.get("type") == "string":
            prop.update(_rules_of(field.metadata))
        _apply(field.annotation, prop)


def _not_null(prop: JsonDict) -> JsonDict:
    branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
    return {k: v for k, v in prop.items() if k != "anyOf"} | branches[0] if branches else prop


_NULL = {"type": "null", "description": "the other way of grading: absent or null"}


def _variants(schema: JsonDict, choices: list[tuple[str, dict[str, JsonDict], list[str]]]) -> None:
    """The object schema as `oneOf` its variants: each (title, properties it sets,
    properties it requires) over the properties the variants share."""
    properties: dict[str, JsonDict] = schema.pop("properties")
    required: list[str] = schema.pop("required")
    varying = {name for _, own, _ in choices for name in own}
    common = {k: v for k, v in properties.items() if k not in varying}
    schema.pop("additionalProperties", None)
    schema["oneOf"] = [
        {
            "title": title,
            "type": "object",
            "properties": common | own,
            "required": [*required, *(n for n in needs if n not in required)],
            "additionalProperties": False,
        }
        for title, own, needs in choices
    ]


def one_way_to_grade(schema: JsonDict, cls: type[BaseModel]) -> None:
    """`json_schema_extra` of the intake: either the contact center's grade (severity
    with its reason) or the impact the seed's rules grade, never both."""
    text_rules(schema, cls)
    p = schema["properties"]
    by_agent = {
        "severity": _not_null(p["severity"]),
        "severity_reason": _not_null(p["severity_reason"]),
    }
    by_impact = {"impact": _not_null(p["impact"])}
    _variants(
        schema,
        [
            ("graded by the contact center", by_agent | {"impact": _NULL}, list(by_agent)),
            (
                "graded by the seed's impact rules",
                by_impact | {"severity": _NULL, "severity_reason": _NULL},
                ["impact"],
            ),
        ],
    )


def outcomes_by_channel(schema: JsonDict, cls: type[BaseModel]) -> None:
    """`json_schema_extra` of a contact: the outcomes each channel has."""
    text_rules(schema, cls)
    _variants(
        schema,
        [
            (
                "a call",
                {
                    "channel": {"const": "phone"},
                    "outcome": {"enum": ["reached", "no_answer", "voicemail"]},
                },
                [],
            ),
            ("an email", {"channel": {"const": "email"}, "outcome": {"const": "sent"}}, []),
        ],
    )


# A wall-clock time of the policy (business hours), in its zone: RFC 3339's `time`
# format would demand an offset, which such a time does not have.
WALL_CLOCK = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$",
    "description": "a local time of day in the policy's `timezone`, HH:MM:SS",
    "examples": ["09:00:00"],
}


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time":
            del node["format"]
            node.update(WALL_CLOCK)
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def _customer_pages(document: JsonDict, prefixes: tuple[str, ...]) -> None:
    """A customer's page never answers JSON: not FastAPI's 422 for path parameters."""
    for path, operations in document["paths"].items():
        if path.startswith(prefixes):
            for operation in operations.values():
                operation["responses"].pop("422", None)
                # A redirect has no body to describe (FastAPI gives it the page's type).
                operation["responses"].get("303", {}).pop("content", None)
    schemas = document.get("components", {}).get("schemas", {})
    if "HTTPValidationError" not in str(document["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _attach(media: JsonDict) -> None:
    """The example of a JSON body by its schema's component (a list: of one item)."""
    if "example" in media or "examples" in media:
        return
    schema = media.get("schema", {})
    optional = [b for b in schema.get("anyOf", []) if "$ref" in b]  # a body that may be left out
    schema = optional[0] if optional else schema
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref") or ""
    name = ref.rsplit("/", 1)[-1]
    if name in NAMED_EXAMPLES:
        media["examples"] = {t: {"value": v} for t, v in NAMED_EXAMPLES[name].items()}
    elif name in EXAMPLES:
        media["example"] = [EXAMPLES[name]] if "items" in schema else EXAMPLES[name]


def _examples(document: JsonDict) -> None:
    for operations in document["paths"].values():
        for operation in operations.values():
            bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
            for body in bodies:
                media = body.get("content", {}).get("application/json")
                if media is not None:
                    _attach(media)


def operation_id(route: APIRoute) -> str:
    """`get_case`, `log_contact`: the route function's name, unique in this app."""
    return route.name


def customise(app: FastAPI, customer_prefixes: tuple[str, ...]) -> None:
    """The app's document: FastAPI's, then what FastAPI cannot say (built once)."""
    generate = app.openapi

    def openapi() -> JsonDict:
        if app.openapi_schema is None:
            document = generate()
            _walk(document)
            _customer_pages(document, customer_prefixes)
            _examples(document)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
