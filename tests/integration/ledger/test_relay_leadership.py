"""One relay at a time over real PostgreSQL and RabbitMQ, and a takeover that loses nothing.

Two replicas share one database: the one whose session holds the advisory lock relays, the
other relays nothing. When the leader stops, the other takes over and relays what is left;
when the leader's lock session is killed on the server, the lease moves or is taken back.
Every ``LineItemChanged`` stored must reach the notifier's queue (under its stored event id).
"""

import asyncio
import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest
from etawatch_testing.infra import PostgresDatabase
from etawatch_testing.ledger import (
    NOW,
    RunScript,
    eventually,
    placed,
    publish_command,
    publish_run,
    topics,
)
from etawatch_testing.ledger_stack import FAST, Stack, queued, take

from etawatch.contracts.topology import NOTIFIER_CHANGES
from etawatch.ledger.adapters.advisory_lease import APPLICATION_NAME, AdvisoryLease
from etawatch.ledger.application.store import LedgerStore, open_read_only
from etawatch.ledger.domain.values import stored_event_id
from etawatch.ledger.entrypoints.stream import LedgerConsumer

pytestmark = pytest.mark.integration
SKUS = [f"S{i}" for i in range(12)]
ETAS = ["Q2 2027", "Q3 2027", "Q4 2027", "Q1 2028", "Q2 2028"]


@pytest.fixture
def reader(stack: Stack) -> Iterator[LedgerStore]:
    store = open_read_only(stack.db.env)
    yield store
    store.close()


def leaders(replicas: list[LedgerConsumer]) -> list[LedgerConsumer]:
    return [r for r in replicas if r.ledger.stats.relay_leader]


def lock_holders(db: PostgresDatabase) -> list[int]:
    """The server processes that hold an advisory lock in the test's database.

    ``pg_locks`` lists the whole server's locks: other databases (other test runs, other
    ledgers) are left out.
    """
    with psycopg.connect(host=db.host, port=db.port, user=db.user, dbname=db.name) as conn:
        rows = conn.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = %s"
            " AND a.datname = current_database()",  # other test runs may hold leases too
            (APPLICATION_NAME,),
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def lease_of(replica: LedgerConsumer) -> AdvisoryLease:
    lease = replica.ledger.lease
    assert isinstance(lease, AdvisoryLease)
    return lease


def decided(reader: LedgerStore) -> int:
    """Runs decided, per partition: compared, or not (a run a replica held only in part)."""
    names = topics(reader)
    return names.count("RunLog.RunCompared") + names.count("RunLog.RunNotCompared")


def script(run: int) -> RunScript:
    return RunScript(dict.fromkeys(SKUS, ETAS[run]), at=NOW + dt.timedelta(hours=run))


async def change_run(stack: Stack, reader: LedgerStore, run: int) -> None:
    """Publish run ``run`` (0 is the baseline) and wait until every partition decided it."""
    await publish_run(stack.bus, script(run))
    await eventually(lambda: decided(reader) == 4 * (run + 1), f"run {run} decided")


def stored_ids(reader: LedgerStore) -> set[str]:
    notifications = reader.recorder.select_notifications(0, 100_000, inclusive_of_start=False)
    return {
        str(stored_event_id(n.originator_id, n.originator_version))
        for n in notifications
        if n.topic.endswith("Order.LineItemChanged")
    }


async def two_replicas(stack: Stack) -> tuple[LedgerConsumer, LedgerConsumer]:
    """Two replicas, the relay leader first, and an order that holds every item."""
    replicas = [await stack.replica(), await stack.replica()]
    await eventually(lambda: len(leaders(replicas)) == 1, "one relay leader")
    (leader,) = leaders(replicas)
    (follower,) = [r for r in replicas if r is not leader]
    await publish_command(stack.bus, placed("A-1", SKUS))
    return leader, follower


async def test_one_replica_relays_and_the_other_takes_over_what_is_left(
    stack: Stack, reader: LedgerStore
) -> None:
    leader, follower = await two_replicas(stack)
    for run in range(3):
        await change_run(stack, reader, run)
    changes = len(SKUS) * 2
    messages = await take(stack.vhost, NOTIFIER_CHANGES.name, changes)
    assert {m.message_id for m in messages} == stored_ids(reader)
    assert leader.ledger.stats.relayed == changes
    assert follower.ledger.stats.relayed == 0
    assert lock_holders(stack.db) == [lease_of(leader).backend_pid]
    await asyncio.sleep(10 * FAST.relay_interval)  # a second relay would publish by now
    assert await queued(stack.vhost, NOTIFIER_CHANGES.name) == 0

    # The leader goes while a run is on its way: what it did not relay, the other relays. (The
    # partitions it held in the middle of the run are not compared: no replica held all of it.)
    await publish_run(stack.bus, script(3))
    await stack.stop(leader)
    await eventually(lambda: follower.ledger.stats.relay_leader, "the other replica leads")
    await eventually(lambda: decided(reader) == 4 * 4, "run 3 decided")
    await change_run(stack, reader, 4)
    stored = stored_ids(reader)
    assert len(stored) >= changes + len(SKUS)
    rest = await take(stack.vhost, NOTIFIER_CHANGES.name, len(stored) - changes, distinct=True)
    assert {m.message_id for m in messages + rest} == stored
    assert follower.ledger.stats.relayed >= len(SKUS)
    assert lock_holders(stack.db) == [lease_of(follower).backend_pid]


async def test_a_killed_lock_session_moves_the_lease_and_loses_nothing(
    stack: Stack, reader: LedgerStore
) -> None:
    replicas = list(await two_replicas(stack))
    killed = lease_of(replicas[0]).backend_pid
    assert killed is not None
    await change_run(stack, reader, 0)
    await change_run(stack, reader, 1)

    db = stack.db
    with psycopg.connect(host=db.host, port=db.port, user=db.user, dbname=db.name) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (killed,))
    await change_run(stack, reader, 2)

    def led_by_a_new_session() -> bool:
        now = leaders(replicas)
        return len(now) == 1 and lock_holders(db) == [lease_of(now[0]).backend_pid] != [killed]

    await eventually(led_by_a_new_session, "a relay leader on a new session")
    await change_run(stack, reader, 3)
    stored = stored_ids(reader)
    assert len(stored) == len(SKUS) * 3
    messages = await take(stack.vhost, NOTIFIER_CHANGES.name, len(stored), distinct=True)
    assert {m.message_id for m in messages} == stored
    assert sum(r.ledger.stats.relayed for r in replicas) >= len(stored)
