"""API keys: made here, stored only as SHA-256 digests, revoked without a restart.

    python -m api.keys create --name ana --display-name "Ana García" --role agent
    python -m api.keys revoke --name ana
    python -m api.keys list
    python -m api.keys digest < key.txt     # the settings entry of an existing key

`create` prints the new key once, on stdout alone (so `KEY=$(...)` works), and stores
its digest in PostgreSQL's `api_keys` (migration 004); with `--no-store` it stores
nothing and prints the entry to add to `API_KEYS`/`API_KEYS_FILE` instead. Every API
process sees a new or revoked key within `api.auth.FRESH_SECONDS`. `list` shows names,
roles and dates, never keys. The database is `DATABASE_URL`, else the dev stack's
embedded one under `DATA_DIR` (`make run`).

A key is 32 bytes from `secrets` (256 bits), so a plain SHA-256 is enough to keep it:
nobody can find a key from its digest, and an unsalted digest can be looked up by index.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from pydantic import ValidationError

from api.principals import ApiPrincipal, Role, configured_principals
from core.db import Connection, migrate
from core.settings import Settings
from core.store import keys as data_keys
from core.store.keys import KeyRow

# Recognisable in a leaked log or repository, and by secret scanners.
KEY_PREFIX = "amger_"
KEY_BYTES = 32


def new_key() -> str:
    """256 random bits, so a plain SHA-256 keeps it; the prefix lets secret scanners spot it."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def digest(key: str) -> bytes:
    """What `api_keys` stores and is searched by, so a leaked table holds no usable key."""
    return hashlib.sha256(key.encode()).digest()


def settings_digest(key: str) -> str:
    """How `API_KEYS` and `API_KEYS_FILE` name a key."""
    return "sha256:" + digest(key).hex()


@dataclass(frozen=True)
class StoredKey:
    """A row of `api_keys`, as the API and the command read it (never the digest)."""

    principal: ApiPrincipal
    created_at: datetime
    revoked_at: datetime | None


class KeyRefused(Exception):
    """The table refused a key (its name has an active key already)."""


def _stored(row: KeyRow) -> StoredKey:
    return StoredKey(
        ApiPrincipal(name=row.name, display_name=row.display_name, roles=row.roles),
        row.created_at,
        row.revoked_at,
    )


async def create(conn: Connection, principal: ApiPrincipal) -> str:
    """Store a new key's digest for `principal`; the key, which nothing keeps."""
    key = new_key()
    try:
        await data_keys.insert_key(
            conn,
            digest=digest(key),
            name=principal.name,
            display_name=principal.display_name,
            roles=[r.value for r in principal.roles],
        )
    except data_keys.ActiveKeyExists:
        raise KeyRefused(
            f"{principal.name!r} already has an active key: revoke it first "
            f"(python -m api.keys revoke --name {principal.name})"
        ) from None
    return key


async def revoke(conn: Connection, name: str) -> int:
    """Revoke the active key of `name`; how many were revoked (0 or 1)."""
    return await data_keys.revoke_key(conn, name=name)


async def listed(conn: Connection) -> list[StoredKey]:
    """Names, roles and dates of every key, revoked ones too; never a digest."""
    return [_stored(row) for row in await data_keys.list_keys(conn)]


async def lookup(conn: Connection, key_digest: bytes) -> tuple[bytes, StoredKey] | None:
    """The row holding `key_digest`, with its stored digest for a constant-time check."""
    row = await data_keys.find_key(conn, digest=key_digest)
    return None if row is None else (bytes(row.digest), _stored(row))


# --- The command ---


async def _connect(settings: Settings) -> Connection:
    url = settings.database_url
    if not url:
        # The dev stack's own server (`make run`): started if it is not running, and
        # stopped again on exit only if nothing else (the dev stack) holds it.
        folder = settings.data_dir.resolve() / "postgres"
        if not folder.is_dir():
            raise SystemExit(
                f"DATABASE_URL is not set and there is no dev database in {folder}: "
                "set DATABASE_URL, or run `make run` once"
            )
        from core.db import embedded_postgres

        url = embedded_postgres(folder)
        await migrate(url)
    try:
        return await Connection.connect(url, autocommit=True, row_factory=dict_row)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"cannot reach PostgreSQL: {exc}") from None


def _principal(args: argparse.Namespace) -> ApiPrincipal:
    try:
        return ApiPrincipal(name=args.name, display_name=args.display_name, roles=args.role)
    except ValidationError as exc:
        problems = "; ".join(
            f"{e['loc'][0]}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise SystemExit(f"refused: {problems}") from None


async def _create(args: argparse.Namespace, settings: Settings) -> None:
    principal = _principal(args)
    # One name, one person: a key in settings already speaks for this name.
    if principal.name in {p.name for p in configured_principals(settings).values()}:
        raise SystemExit(f"refused: {principal.name!r} has a key in API_KEYS/API_KEYS_FILE")
    roles = ", ".join(principal.roles)
    if args.no_store:
        key = new_key()
        entry = {settings_digest(key): principal.model_dump(mode="json")}
        print(
            f"Key for {principal.name} ({principal.display_name}; {roles}), shown only now."
            f"\nAdd this entry to API_KEYS or API_KEYS_FILE:\n{json.dumps(entry)}",
            file=sys.stderr,
        )
    else:
        async with await _connect(settings) as conn:
            try:
                key = await create(conn, principal)
            except KeyRefused as exc:
                raise SystemExit(f"refused: {exc}") from None
        print(
            f"Key for {principal.name} ({principal.display_name}; {roles}), shown only now: "
            "only its SHA-256 digest is stored.",
            file=sys.stderr,
        )
    print(key)


async def _revoke(args: argparse.Namespace, settings: Settings) -> None:
    async with await _connect(settings) as conn:
        if not await revoke(conn, args.name):
            raise SystemExit(f"{args.name!r} has no active key")
    print(f"revoked the key of {args.name}: refused everywhere within seconds")


async def _list(_: argparse.Namespace, settings: Settings) -> None:
    async with await _connect(settings) as conn:
        keys = await listed(conn)
    print(f"{'name':<20} {'display name':<28} {'roles':<30} {'created':<20} revoked")
    for k in keys:
        p = k.principal
        revoked = "-" if k.revoked_at is None else f"{k.revoked_at:%Y-%m-%d %H:%M:%S}"
        print(
            f"{p.name:<20} {p.display_name:<28} {','.join(p.roles):<30} "
            f"{k.created_at:%Y-%m-%d %H:%M:%S}  {revoked}"
        )


def _digest() -> None:
    # From stdin, not an argument: arguments end up in shell histories and `ps`.
    key = sys.stdin.readline().strip()
    if not key:
        raise SystemExit("give the key on stdin")
    print(settings_digest(key))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m api.keys", description="API keys, stored only as digests"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("create", help="make a key; prints it once")
    make.add_argument("--name", required=True, help="the actor recorded for its actions")
    make.add_argument("--display-name", required=True, help="the person's name, as shown")
    make.add_argument("--role", required=True, action="append", choices=[r.value for r in Role])
    make.add_argument(
        "--no-store", action="store_true", help="store nothing; print the settings entry"
    )
    end = sub.add_parser("revoke", help="revoke the active key of a name")
    end.add_argument("--name", required=True)
    sub.add_parser("list", help="names, roles, created and revoked (never keys)")
    sub.add_parser("digest", help="the settings entry's digest of a key read on stdin")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m api.keys` (see the module docstring); `digest` needs no database."""
    args = _parser().parse_args(argv)
    if args.command == "digest":
        _digest()
        return
    commands = {"create": _create, "revoke": _revoke, "list": _list}
    asyncio.run(commands[args.command](args, Settings()))


if __name__ == "__main__":
    main()
