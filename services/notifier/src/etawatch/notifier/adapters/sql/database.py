"""One small interface over sqlite3 and psycopg: transactions that execute and fetch.

Statements are written once with ``?`` placeholders and the SQL both databases understand
(``INSERT ... ON CONFLICT``); the PostgreSQL side turns ``?`` into ``%s``. Each database object
holds one connection and runs one transaction at a time.
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import psycopg

Row = tuple[Any, ...]
PING_CONNECT_TIMEOUT = 5
"""Seconds a ping's own connection may take; the probe itself gives up sooner."""


class Transaction(Protocol):
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class Database(Protocol):
    blob_type: str

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def ping(self) -> None:
        """Return when the database answers a trivial query; raise when it does not."""

    async def close(self) -> None: ...


class _SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, tuple(params)).rowcount

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())


class SqliteDatabase:
    """A local SQLite file (or ``:memory:``). Calls are quick and made inline."""

    blob_type = "BLOB"

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 10000")
        if path != ":memory:":
            # WAL with synchronous=NORMAL: a commit survives the process dying at any point
            # (the crash this log is about); only a power cut may lose the last commits.
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTransaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    async def ping(self) -> None:
        self._conn.execute("SELECT 1").fetchall()

    async def close(self) -> None:
        self._conn.close()


class _PostgresTransaction:
    def __init__(self, conn: psycopg.AsyncConnection[Row]) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(sql.replace("?", "%s"), tuple(params))
        return cursor.rowcount

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self._conn.execute(sql.replace("?", "%s"), tuple(params))
        return list(await cursor.fetchall())


class PostgresDatabase:
    """PostgreSQL through one psycopg async connection, reopened when it broke."""

    blob_type = "BYTEA"

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.AsyncConnection[Row] | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> psycopg.AsyncConnection[Row]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
        return self._conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            conn = await self._connection()
            async with conn.transaction():
                yield _PostgresTransaction(conn)

    async def ping(self) -> None:
        """On a connection of its own: the service's connection is never interrupted by a
        ping that times out, nor does the ping wait behind the service's transactions."""
        conn = await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=PING_CONNECT_TIMEOUT
        )
        async with conn:
            await conn.execute("SELECT 1")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()


def open_database(url: str) -> Database:
    """``sqlite:///relative/path.db``, ``sqlite:////absolute.db``, ``sqlite:///:memory:`` or
    ``postgresql://user@host:port/db``."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url)
    raise ValueError("database URL must start with sqlite:/// or postgresql://")
