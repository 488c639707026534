"""The relay lease: one replica relays at a time, and a lost session loses the lease at once.

The advisory lease is tried here against a fake connection (what the server answers to
``pg_try_advisory_lock`` and ``SELECT 1``, and a connection that breaks); the real lock is
tried in ``tests/integration/ledger/test_relay_leadership.py``.
"""

import datetime as dt
from typing import Any

import psycopg
import pytest
from etawatch_testing.ledger import NOW, RecordingBus, RunScript, feed, new_ledger, placed
from prometheus_client import REGISTRY

from etawatch.ledger.adapters.advisory_lease import AdvisoryLease, lock_key, relay_lease
from etawatch.ledger.application.lease import SoleRelay
from etawatch.ledger.application.store import LedgerStore


class FakeServer:
    """Who holds the lock, which sessions are alive, and what each session was asked."""

    def __init__(self) -> None:
        self.holder: int | None = None
        self.alive: set[int] = set()
        self.asked: list[tuple[int, str]] = []
        self.reachable = True
        self._pids = iter(range(100, 1000))

    def connect(self) -> "FakeConnection":
        if not self.reachable:
            raise psycopg.OperationalError("connection refused")
        conn = FakeConnection(self, next(self._pids))
        self.alive.add(conn.info.backend_pid)
        return conn

    def terminate(self, pid: int) -> None:
        self.alive.discard(pid)
        if self.holder == pid:
            self.holder = None


class FakeInfo:
    def __init__(self, pid: int) -> None:
        self.backend_pid = pid


class FakeConnection:
    def __init__(self, server: FakeServer, pid: int) -> None:
        self.server = server
        self.info = FakeInfo(pid)
        self.closed = False
        self._row: tuple[Any, ...] = ()

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> "FakeConnection":
        pid = self.info.backend_pid
        if pid not in self.server.alive:
            raise psycopg.OperationalError("terminating connection due to administrator command")
        self.server.asked.append((pid, query.split("(", maxsplit=1)[0]))
        if query.startswith("SELECT pg_try_advisory_lock"):
            if self.server.holder in (None, pid):
                self.server.holder = pid
            self._row = (self.server.holder == pid,)
        else:
            self._row = (1,)
        return self

    def fetchone(self) -> tuple[Any, ...]:
        return self._row

    def close(self) -> None:
        self.closed = True
        self.server.terminate(self.info.backend_pid)


def lease(server: FakeServer) -> AdvisoryLease:
    return AdvisoryLease(server.connect, key=7)  # type: ignore[arg-type]


def test_one_of_two_replicas_holds_the_lease_until_its_session_ends() -> None:
    server = FakeServer()
    first, second = lease(server), lease(server)
    assert first.held()
    assert not second.held()
    assert first.held()  # checks that the session lives, does not ask for the lock again
    assert server.asked[-1] == (first.backend_pid, "SELECT 1")
    assert not second.held()
    first.release()
    assert not first.held()  # released for good (shutdown)
    assert second.held()


def test_a_broken_session_loses_the_lease_and_the_next_call_tries_again() -> None:
    server = FakeServer()
    first, second = lease(server), lease(server)
    assert first.held()
    lost = first.backend_pid
    assert lost is not None
    server.terminate(lost)  # pg_terminate_backend: the server drops the lock with the session
    assert not first.held()
    assert second.held()  # the other replica takes over
    assert not first.held()  # reconnected, the lock is taken
    assert first.backend_pid != lost
    assert second.held()


def test_the_same_replica_takes_the_lease_back_when_no_one_else_did() -> None:
    server = FakeServer()
    only = lease(server)
    assert only.held()
    assert only.backend_pid is not None
    server.terminate(only.backend_pid)
    assert not only.held()  # the step in hand is not relayed
    assert only.held()  # the next step reconnects and takes the lock again


def test_an_unreachable_server_means_no_lease_and_no_error() -> None:
    server = FakeServer()
    server.reachable = False
    waiting = lease(server)
    assert not waiting.held()
    assert not waiting.held()
    server.reachable = True
    assert waiting.held()


def test_the_lock_key_is_fixed_per_schema_and_table_and_fits_a_bigint() -> None:
    key = lock_key("public", "ledger_events")
    assert key == lock_key("public", "ledger_events")
    assert key != lock_key("ledger", "ledger_events")
    assert key != lock_key("public", "other_events")
    assert -(2**63) <= key < 2**63


@pytest.mark.parametrize(
    "env",
    [
        {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"},
    ],
)
def test_an_embedded_store_has_the_lease_of_its_sole_process(env: dict[str, str]) -> None:
    chosen = relay_lease(LedgerStore(env=env))
    assert isinstance(chosen, SoleRelay)
    assert chosen.held()


def leader_gauge() -> float | None:
    return REGISTRY.get_sample_value("etawatch_ledger_relay_leader")


async def test_the_ledger_relays_only_while_it_holds_the_lease() -> None:
    server = FakeServer()
    store = LedgerStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ledger = new_ledger(store)
    other = lease(server)
    assert other.held()
    ledger.lease = lease(server)
    await ledger.handle_command(placed("A-1", ["S1"]))
    await feed(ledger, RunScript({"S1": "Q2 2027"}))
    await feed(ledger, RunScript({"S1": "Q4 2027"}, at=NOW + dt.timedelta(hours=1)))
    bus = RecordingBus()
    assert await ledger.relay_once(bus) == 0
    assert bus.published == []
    assert not ledger.stats.relay_leader
    assert leader_gauge() == 0
    other.release()
    assert await ledger.relay_once(bus) == 1
    assert ledger.stats.relay_leader
    assert leader_gauge() == 1
    await ledger.release_relay()
    assert not ledger.stats.relay_leader
    assert leader_gauge() == 0
