"""Who may call the API: roles, the principal a key belongs to, and the rules on keys'
names and on how settings hold keys (digests only).

Pure values, no I/O: settings (`core.settings`) validate `API_KEYS` entries with them,
the API authenticates with them (`api.auth`), `python -m api.keys` makes keys with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from workflows.effects import SYSTEM
from workflows.text import Name

if TYPE_CHECKING:  # core.settings imports this module for its API_KEYS field
    from core.settings import Settings


class Role(StrEnum):
    """What a key may do; each route requires one of these (`api.deps`).

    `tests/test_roles_matrix.py` holds every route, and every role, to one table.
    """

    CONTACT_CENTER = "contact_center"  # opens cases on intake
    AGENT = "agent"  # works cases: contacts, remote access, resolution
    SUPERVISOR = "supervisor"  # reclassifies, cancels, and may do what an agent does
    OPS = "ops"  # reads cases and the SLA policy
    METRICS = "metrics"  # reads /metrics (and the health checks) only: for Prometheus


# A key's name is the actor recorded for what it does (events, `opened_by`): a short
# handle in a safe alphabet. The system's own actors, "sistema" (timers, lanes) and
# "cliente:<id>" (the customer's decisions), are never a key's, so nothing done with a key
# can pass for them. Migration 004 checks the same in the api_keys table.
KEY_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
CUSTOMER_ACTOR_PREFIX = "cliente:"
# How settings hold a key: its SHA-256, never the key itself (`python -m api.keys`).
KEY_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def check_key_name(name: str) -> str:
    """Refuse a name that could pass for the system's own actors or is unsafe to log.

    Settings, `python -m api.keys` and `ApiPrincipal` all check with it, so they refuse the
    same names; migration 004 makes the table refuse them too.
    """
    if name == SYSTEM or name.startswith(CUSTOMER_ACTOR_PREFIX):
        raise ValueError(
            f"{name!r} is reserved for the system's own actors ({SYSTEM!r}, "
            f"'{CUSTOMER_ACTOR_PREFIX}…'); choose another name"
        )
    if not KEY_NAME.fullmatch(name):
        raise ValueError(
            "a key's name is 1 to 64 of a-z 0-9 . _ - and starts with a letter or digit"
        )
    return name


class ApiPrincipal(BaseModel):
    """Whom a key belongs to."""

    name: Annotated[str, AfterValidator(check_key_name)]
    # The person's name, for people to read (customers included). Settings entries may
    # leave it out and show the name; `python -m api.keys` and the table require it.
    display_name: Name = Field(default="", validate_default=False)
    roles: list[Role] = Field(min_length=1)

    @model_validator(mode="after")
    def _display_name_defaults_to_name(self) -> Self:
        self.display_name = self.display_name or self.name
        return self


def refuse_clear_keys(keys: Mapping[str, object], where: str) -> None:
    """Stop the process when settings hold a key rather than its digest.

    A SystemExit, not a validation error: pydantic's message would quote the input,
    which is the very key that must not reach a log.
    """
    if all(isinstance(k, str) and KEY_DIGEST.fullmatch(k) for k in keys):
        return
    raise SystemExit(
        f"{where} holds an API key in clear (or a malformed digest): settings keep only "
        'digests, {"sha256:<64 lowercase hex digits>": {"name": ..., "display_name": ..., '
        '"roles": [...]}}. Turn an existing key into its digest with `python -m api.keys '
        "digest` (reads the key on stdin), or make keys with `python -m api.keys create`"
    )


def key_entries(value: object, where: str) -> object:
    """`API_KEYS` as settings read it: a JSON text becomes an object, and an object must
    name digests, not keys (refused without quoting them)."""
    if isinstance(value, str):
        value = _json_object(value, where)
    if isinstance(value, Mapping):
        refuse_clear_keys(value, where)
    return value


def configured_principals(settings: Settings) -> dict[str, ApiPrincipal]:
    """Digests from `API_KEYS` plus those in `API_KEYS_FILE` (same JSON shape)."""
    keys = dict(settings.api_keys)
    if settings.api_keys_file is not None:
        where = f"API_KEYS_FILE ({settings.api_keys_file})"
        try:
            text = settings.api_keys_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SystemExit(f"{where} cannot be read: {exc.strerror}") from None
        raw = _json_object(text, where)
        refuse_clear_keys(raw, where)
        keys.update({k: ApiPrincipal.model_validate(v) for k, v in raw.items()})
    return keys


def _json_object(text: str, where: str) -> dict[str, object]:
    """A JSON object of keys; an error names the setting, never quotes what it holds."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise SystemExit(f"{where} is not a JSON object of API key digests")
    return value
