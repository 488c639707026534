"""The relay lease on PostgreSQL: a session-level advisory lock on a connection of its own.

``pg_try_advisory_lock(key)`` on a dedicated connection (autocommit, never in a transaction),
built from the store's own connection settings. The key is derived from the store's schema and
events table, so two ledgers in one database (different schemas or names) do not exclude each
other; advisory locks of different databases never meet.

While the lock is held, each ``held()`` checks that the session lives (``SELECT 1``): a session
lock lasts as long as its session. When the connection breaks the lease is lost at once: the
replica stops relaying, and the next ``held()`` connects again and tries the lock (the relay
loop's pause paces the attempts). The server releases the lock only when it notices that the
session is gone: at once when the leader's process exits or closes the connection, after the
TCP keepalives below when its host or network dies silently. Both ends of the connection send
keepalives, so a dead peer is noticed within about ``KEEPALIVE_IDLE + KEEPALIVE_INTERVAL *
KEEPALIVE_COUNT`` seconds.
"""

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore, PostgresFactory

from etawatch.ledger.application.lease import RelayLease, SoleRelay
from etawatch.ledger.application.store import LedgerStore
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

KEEPALIVE_IDLE = 10
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3
USER_TIMEOUT_MS = (KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT) * 1000
APPLICATION_NAME = "etawatch-ledger-relay-lease"

Connect = Callable[[], psycopg.Connection[tuple[Any, ...]]]


def lock_key(schema: str, table: str) -> int:
    """The advisory lock's key: a signed 64-bit hash of the relay's schema-qualified table."""
    digest = hashlib.blake2b(f"etawatch-ledger-relay:{schema}.{table}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class AdvisoryLease:
    """A relay lease held as long as this object's session holds the advisory lock."""

    def __init__(self, connect: Connect, key: int) -> None:
        self.connect = connect
        self.key = key
        self.backend_pid: int | None = None
        """The server process of the lock's session (to find it in ``pg_stat_activity``)."""
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._holding = False
        self._released = False
        self._lock = threading.Lock()

    def held(self) -> bool:
        with self._lock:
            if not self._released:
                try:
                    self._holding = self._ask()
                except psycopg.Error as exc:
                    if self._holding:
                        log.warning("relay lease session lost", error=repr(exc))
                    self._drop()
            if self._released:  # released while this call was connecting
                self._drop()
            return self._holding

    def _ask(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = self.connect()
            self.backend_pid = self._conn.info.backend_pid
        if self._holding:
            self._conn.execute("SELECT 1")  # the session lives, so its lock does
            return True
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def _drop(self) -> None:
        self._holding = False
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def release(self) -> None:
        """Close the session: the server drops the lock with it.

        Does not wait for a ``held()`` that is still connecting (shutdown must not hang on an
        unreachable database): that call closes the session itself when it returns.
        """
        self._released = True
        if self._lock.acquire(timeout=1.0):
            try:
                self._drop()
            finally:
                self._lock.release()


def connector(datastore: PostgresDatastore) -> Connect:
    """Connections with the store's settings, keepalives on both ends, in autocommit."""
    pool: Any = datastore.pool
    settings = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
    server_keepalives = (
        f"-c tcp_keepalives_idle={KEEPALIVE_IDLE}"
        f" -c tcp_keepalives_interval={KEEPALIVE_INTERVAL}"
        f" -c tcp_keepalives_count={KEEPALIVE_COUNT}"
    )

    def connect() -> psycopg.Connection[tuple[Any, ...]]:
        password = pool.get_password_func() if pool.get_password_func else settings["password"]
        return psycopg.connect(
            **{**settings, "password": password},
            autocommit=True,
            connect_timeout=max(1, int(pool.timeout)),
            application_name=APPLICATION_NAME,
            keepalives=1,
            keepalives_idle=KEEPALIVE_IDLE,
            keepalives_interval=KEEPALIVE_INTERVAL,
            keepalives_count=KEEPALIVE_COUNT,
            tcp_user_timeout=USER_TIMEOUT_MS,
            options=server_keepalives,
        )

    return connect


def relay_lease(store: LedgerStore) -> RelayLease:
    """An advisory lease on PostgreSQL; on SQLite or in memory, the lease of the sole process."""
    factory = store.factory
    if not isinstance(factory, PostgresFactory):
        return SoleRelay()
    datastore = factory.datastore
    table: str = getattr(store.recorder, "events_table_name", "stored_events")
    return AdvisoryLease(connector(datastore), lock_key(datastore.schema, table))
