"""Reading the views for HTTP answers: SQLite inline (primary-key lookups in a local file take
microseconds) and reads of many rows in worker threads of its own, PostgreSQL through an async
connection pool."""

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol
from urllib.parse import urlsplit

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

Params = tuple[Any, ...]


class Reader(Protocol):
    ph: str
    reads_in_flight: int
    """How many reads of many rows (``apart``) are best out at once, measured (bench/)."""

    async def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None: ...

    async def all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]: ...

    async def apart(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """``all``, for a read of many rows (SQLite: in a worker thread, not on the loop)."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...


class SqliteReader:
    ph = "?"
    reads_in_flight = 1
    WORKERS = 4
    """Threads for ``apart``: more would only wait for the interpreter's lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._workers: ThreadPoolExecutor | None = None

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

    async def apart(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """In a worker thread of this reader's (each with a connection of its own): SQLite
        leaves the interpreter's lock while it searches, so the event loop answers other
        requests meanwhile."""
        if self._workers is None:
            self._workers = ThreadPoolExecutor(self.WORKERS, thread_name_prefix="views-reader")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers, self._read_all, sql, params)

    def _read_all(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return self._conn().execute(sql, params).fetchall()

    async def open(self) -> None:
        self._conn().execute("SELECT 1").fetchone()

    async def close(self) -> None:
        """Wait for the reads in worker threads to end, then close every connection."""
        if self._workers is not None:
            self._workers.shutdown(wait=True)
            self._workers = None
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._local = threading.local()


async def _read_committed(conn: AsyncConnection) -> None:
    await conn.execute("SET default_transaction_isolation = 'read committed'")


class PostgresReader:
    """Each answer is one statement, in a transaction of its own at READ COMMITTED (whatever
    the database's default), which takes its snapshot once it holds its tables: a rebuild
    swapping them in is waited for, and its rows are seen. At REPEATABLE READ a prepared
    statement takes its snapshot before it waits, and would find the new tables empty."""

    ph = "%s"
    reads_in_flight = 2

    def __init__(self, url: str, max_size: int = 10) -> None:
        self.pool: AsyncConnectionPool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=False,
            kwargs={"autocommit": True},
            configure=_read_committed,
        )

    async def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchone()

    async def all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchall()

    async def apart(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return await self.all(sql, params)

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
