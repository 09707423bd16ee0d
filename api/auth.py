"""Who is calling, and what of the cases they may read.

A presented key is found by its SHA-256: first among the digests settings hold
(`API_KEYS`, `API_KEYS_FILE`, read at start-up), then in PostgreSQL's `api_keys`, where
`python -m api.keys` adds and revokes keys while the API runs. An answer from the table
is remembered for `FRESH_SECONDS`, so a revocation is refused by every API process
within that time without a query per request. Only while PostgreSQL cannot be reached
is an older answer used (up to `STALE_SECONDS`), so that agents keep working cases
through an outage, as the rest of the API does; a key never seen before gets 503 then.
After a failed query the table is left alone for `FRESH_SECONDS`, so that a known key
does not wait for the pool's timeout on every request of the outage.

Reads: agents, supervisors and ops read every case. A contact center reads only the
cases it opened, without the customers' IP addresses and browsers in the consent
records, and neither the event log nor the team's notices (which hold the same
consents and the agents' notes).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psycopg
from psycopg_pool import PoolTimeout

from api import keys
from api.principals import ApiPrincipal, Role
from api.schemas import CaseOut
from core.db import Pool
from core.store import CaseFilter, CaseStore, CaseSummary
from workflows.rules import Action

log = logging.getLogger(__name__)

FRESH_SECONDS = 3.0
STALE_SECONDS = 15 * 60.0
# Wrong keys are remembered too (a client retrying one costs no query); the memory
# they take is bounded by forgetting everything past this many.
MAX_REMEMBERED = 10_000


@dataclass(frozen=True)
class KeyCheck:
    """A key lookup's outcome; revoked is told apart from unknown so the 401 says which."""

    principal: ApiPrincipal | None  # None: unknown or revoked
    revoked: bool = False


@dataclass(frozen=True)
class _Answer:
    check: KeyCheck
    at: float  # monotonic time of the query


class KeyRing:
    """Finds whom a presented key belongs to: settings' digests first, then `api_keys`.

    One per app (`api.deps.Services`), so every request shares what the table answered; the
    module docstring says how long an answer is trusted, and why.
    """

    def __init__(
        self,
        configured: Mapping[str, ApiPrincipal],
        pool: Pool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._configured = [
            (bytes.fromhex(d.removeprefix("sha256:")), p) for d, p in configured.items()
        ]
        self._pool = pool
        self._clock = clock
        self._answers: dict[bytes, _Answer] = {}
        self._unreachable_until = float("-inf")

    async def find(self, presented: str) -> KeyCheck:
        """Look `presented` up by its SHA-256; only digests are ever stored or compared.

        Raises:
            psycopg.OperationalError, PoolTimeout: PostgreSQL is unreachable and the key was
                not seen within STALE_SECONDS, so it can be neither accepted nor refused
                (503, not 401: the client's key may well be valid).
        """
        wanted = keys.digest(presented)
        # Every configured digest is compared, in constant time, so the time taken
        # says nothing about which one (or how much of one) matched.
        found: ApiPrincipal | None = None
        for known, principal in self._configured:
            if hmac.compare_digest(known, wanted):
                found = principal
        if found is not None:
            return KeyCheck(found)
        now = self._clock()
        earlier = self._answers.get(wanted)
        if earlier is not None and now - earlier.at < FRESH_SECONDS:
            return earlier.check
        stale = earlier if earlier is not None and now - earlier.at < STALE_SECONDS else None
        if stale is not None and now < self._unreachable_until:
            return stale.check
        try:
            check = await self._query(wanted)
        except (psycopg.OperationalError, PoolTimeout):
            self._unreachable_until = self._clock() + FRESH_SECONDS
            if stale is not None:
                log.warning("PostgreSQL unreachable: API key checked %.0f s ago", now - stale.at)
                return stale.check
            raise  # answered 503 (api.errors): the key can be neither accepted nor refused
        if len(self._answers) >= MAX_REMEMBERED:
            self._answers.clear()
        self._answers[wanted] = _Answer(check, now)
        return check

    async def _query(self, wanted: bytes) -> KeyCheck:
        async with self._pool.connection() as conn:
            row = await keys.lookup(conn, wanted)
        # The index found the row by digest; a leak of that lookup's timing is about
        # the digest, which reveals nothing of a key. The final check is constant-time.
        if row is None or not hmac.compare_digest(row[0], wanted):
            return KeyCheck(None)
        stored = row[1]
        if stored.revoked_at is not None:
            return KeyCheck(None, revoked=True)
        return KeyCheck(stored.principal)


_READ_EVERY_CASE = frozenset({Role.AGENT, Role.SUPERVISOR, Role.OPS})


def reads_every_case(principal: ApiPrincipal) -> bool:
    """Agents, supervisors and ops work across cases; a contact center only its own."""
    return not _READ_EVERY_CASE.isdisjoint(principal.roles)


def may_read(principal: ApiPrincipal, opened_by: str) -> bool:
    """A contact center reads only the cases it opened; another answers 404, as if unknown."""
    return reads_every_case(principal) or opened_by == principal.name


# Who may send each action over the API, as the routes' role dependencies say
# (tests/test_roles_matrix.py holds both to the same table). Nobody decides for the
# customer: that takes the customer's own link.
_AGENTS = frozenset({Role.AGENT, Role.SUPERVISOR})
_ACTION_ROLES: dict[Action, frozenset[Role]] = {a: _AGENTS for a in Action} | {
    Action.CHANGE_PLAN: frozenset({Role.SUPERVISOR}),
    Action.DECIDE_REMOTE_ACCESS: frozenset(),
}


def may_act(principal: ApiPrincipal, action: Action) -> bool:
    """The routes' role rules as a question, so `allowed_actions` never offers a 403.

    Nobody may send `decide_remote_access` with a key: only the customer's link decides.
    """
    return not _ACTION_ROLES[action].isdisjoint(principal.roles)


def as_seen_by(principal: ApiPrincipal, case: CaseOut) -> CaseOut:
    """The case as `principal` may see it: only the actions its role may send, and for a
    contact center the decisions on remote access (when, which, the text shown) without
    the customer's IP address or browser."""
    update: dict[str, object] = {
        "allowed_actions": [a for a in case.allowed_actions if may_act(principal, Action(a))]
    }
    if not reads_every_case(principal):
        update["authorizations"] = [
            a.model_copy(
                update={
                    "consents": [
                        c.model_copy(update={"ip": None, "user_agent": None}) for c in a.consents
                    ]
                }
            )
            for a in case.authorizations
        ]
    return case.model_copy(update=update)


async def readable_cases(
    store: CaseStore, wanted: CaseFilter, principal: ApiPrincipal
) -> list[CaseSummary]:
    """The case list `principal` may read, in the store's order and with its filters: a
    contact center's is the cases it opened."""
    if not reads_every_case(principal):
        wanted = wanted.model_copy(update={"opened_by": principal.name})
    return await store.list_cases(wanted=wanted)
