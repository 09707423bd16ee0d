"""A PostgreSQL that can be cut off and brought back, for outage tests and benchmarks.

`CuttableDatabase` is a TCP proxy on loopback in front of the real server (Unix socket
or TCP). While cut, it drops every open connection and refuses new ones, which is what
the API and the worker see when PostgreSQL stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg.conninfo import conninfo_to_dict, make_conninfo


class CuttableDatabase:
    def __init__(self, url: str) -> None:
        params = conninfo_to_dict(url)
        host, port = str(params.get("host") or "127.0.0.1"), str(params.get("port") or 5432)
        self._unix = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
        self._tcp = (host, int(port))
        self._url = url
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def up(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        return make_conninfo(self._url, host="127.0.0.1", port=str(self.port))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """PostgreSQL goes away: open connections drop, new ones are refused."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        await self.start()

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._unix is not None:
            return await asyncio.open_unix_connection(self._unix)
        return await asyncio.open_connection(*self._tcp)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._upstream()
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@asynccontextmanager
async def cuttable(url: str) -> AsyncIterator[CuttableDatabase]:
    db = CuttableDatabase(url)
    await db.start()
    try:
        yield db
    finally:
        if db.up:
            await db.cut()
