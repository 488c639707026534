"""Reading the views for HTTP answers: SQLite inline (primary-key lookups in a local file take
microseconds), PostgreSQL through an async connection pool."""

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from psycopg_pool import AsyncConnectionPool

Params = tuple[Any, ...]
Query = tuple[str, Params]
Follow = Callable[[tuple[Any, ...]], Query | None]


class Reader(Protocol):
    ph: str

    async def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None: ...

    async def all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]: ...

    async def one_then_all(
        self, tables: tuple[str, ...], sql: str, params: Params, follow: Follow
    ) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]]]:
        """One row, then the rows of the query ``follow`` makes of it (``None``: none), both
        read in one snapshot of the views (``tables``: those the two queries read)."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...


class SqliteReader:
    ph = "?"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, cached_statements=64)
            conn.execute("PRAGMA query_only = 1")
            conn.execute("PRAGMA mmap_size = 268435456")  # pages read straight from the file
            conn.execute("PRAGMA cache_size = -32768")  # 32 MiB of page cache
            self._local.conn = conn
            self._all.append(conn)
        return conn

    async def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._conn().execute(sql, params).fetchone()
        return row

    async def all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._conn().execute(sql, params).fetchall()

    async def one_then_all(
        self,
        tables: tuple[str, ...],  # noqa: ARG002 - a read transaction sees one snapshot of all
        sql: str,
        params: Params,
        follow: Follow,
    ) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]]]:
        conn = self._conn()
        conn.execute("BEGIN")  # nothing here awaits: no other request uses the connection meanwhile
        try:
            found: tuple[Any, ...] | None = conn.execute(sql, params).fetchone()
            then = None if found is None else follow(found)
            rows = [] if then is None else conn.execute(*then).fetchall()
        finally:
            conn.execute("COMMIT")
        return found, rows

    async def open(self) -> None:
        self._conn().execute("SELECT 1").fetchone()

    async def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._local = threading.local()


class PostgresReader:
    ph = "%s"

    def __init__(self, url: str, max_size: int = 10) -> None:
        self.pool: AsyncConnectionPool = AsyncConnectionPool(
            url, min_size=1, max_size=max_size, open=False, kwargs={"autocommit": True}
        )

    async def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchone()

    async def all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchall()

    async def one_then_all(
        self, tables: tuple[str, ...], sql: str, params: Params, follow: Follow
    ) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]]]:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # The snapshot is taken by the first query, so after this lock: a rebuild swapping
            # the tables in is waited for, and its rows are seen (taken before it, they would
            # not be, and the order would look unknown).
            await conn.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS SHARE MODE")
            cursor = await conn.execute(sql, params, prepare=True)
            found = await cursor.fetchone()
            then = None if found is None else follow(found)
            if then is None:
                return found, []
            cursor = await conn.execute(*then)
            return found, await cursor.fetchall()

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=10)

    async def close(self) -> None:
        await self.pool.close()


def reader_for(url: str) -> Reader:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        return SqliteReader(path)
    if parts.scheme in ("postgres", "postgresql"):
        return PostgresReader(url)
    raise ValueError(f"unsupported views URL scheme {parts.scheme!r}")
