"""The API keys added and revoked while the API runs (`api_keys`, migration 004).

Only a key's SHA-256 is stored. These functions take a connection rather than the
pool: `python -m api.keys` holds one connection, the API borrows one from its pool.
What a key may do (its roles, its name's rules) is the API's (`api.principals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from core.db import Connection


@dataclass(frozen=True)
class KeyRow:
    """A row of `api_keys`."""

    digest: bytes
    name: str
    display_name: str
    roles: list[str]
    created_at: datetime
    revoked_at: datetime | None


class ActiveKeyExists(Exception):
    """The name has an active key already (one active key per name)."""


_COLUMNS = "digest, name, display_name, roles, created_at, revoked_at"


async def insert_key(
    conn: Connection, *, digest: bytes, name: str, display_name: str, roles: list[str]
) -> None:
    """Store a new key's digest; ActiveKeyExists when `name` has an active key."""
    try:
        await conn.execute(
            "INSERT INTO api_keys (digest, name, display_name, roles) VALUES (%s, %s, %s, %s)",
            (digest, name, display_name, roles),
        )
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != "api_keys_one_active_per_name":
            raise
        raise ActiveKeyExists(name) from None


async def revoke_key(conn: Connection, *, name: str) -> int:
    """Revoke the active key of `name`; how many were revoked (0 or 1)."""
    cur = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL",
        (name,),
    )
    return cur.rowcount


async def list_keys(conn: Connection) -> list[KeyRow]:
    """Every key, active or revoked, by name then age."""
    async with conn.cursor(row_factory=class_row(KeyRow)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY name, created_at")  # noqa: S608
        return await cur.fetchall()


async def find_key(conn: Connection, *, digest: bytes) -> KeyRow | None:
    """The row holding `digest`, revoked or not."""
    async with conn.cursor(row_factory=class_row(KeyRow)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE digest = %s", (digest,))  # noqa: S608
        return await cur.fetchone()


async def any_keys(conn: Connection) -> bool:
    """Whether any key was ever stored (the dev stack makes its keys on the first run)."""
    cur = await conn.execute("SELECT EXISTS (SELECT FROM api_keys) AS made")
    row = await cur.fetchone()
    return row is None or bool(row["made"])
