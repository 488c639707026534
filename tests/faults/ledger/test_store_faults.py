"""Faults of the ledger's store: a database that goes away and comes back, and two replicas
writing the same order at the same moment.

What is tried: PostgreSQL reached through a loopback proxy that is closed while a run and a
command arrive (their messages must stay unacknowledged, then be processed once it is open
again, nothing lost); and an order with lines in two partitions, changed by two ledgers whose
saves cross (one must lose on optimistic concurrency, plan again and win).
"""

import asyncio
import datetime as dt
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from etawatch_testing.infra import PostgresDatabase, RabbitVhost, postgres_database, rabbit_vhost
from etawatch_testing.ledger import (
    NOW,
    RunScript,
    TcpProxy,
    eventually,
    feed,
    new_ledger,
    placed,
    publish_command,
    publish_run,
    topics,
)
from faststream.rabbit import RabbitBroker

from etawatch.contracts.topology import partition_of
from etawatch.ledger.application.service import Ledger
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.entrypoints.stream import ConsumerOptions, LedgerConsumer
from etawatch.runtime.rabbit import RabbitBus

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture
def db() -> Iterator[PostgresDatabase]:
    with postgres_database("etawatch_ledger_faults") as database:
        yield database


@pytest.fixture
def vhost() -> Iterator[RabbitVhost]:
    with rabbit_vhost("etawatch-ledger-faults") as v:
        yield v


async def test_a_database_that_goes_away_and_comes_back_loses_nothing(
    db: PostgresDatabase, vhost: RabbitVhost
) -> None:
    proxy = TcpProxy(db.host, db.port)
    await proxy.open()
    env = {**db.env, "POSTGRES_PORT": str(proxy.port), "POSTGRES_CONNECT_TIMEOUT": "1"}
    store = await asyncio.to_thread(LedgerStore, env=env)  # the proxy serves on this loop
    options = ConsumerOptions(batch_size=20, batch_seconds=0.05, prefetch=100, relay_interval=0.05)
    consumer = LedgerConsumer(Ledger(store), RabbitBroker(vhost.url, logger=None), options)
    await consumer.start()
    check = LedgerStore(env=db.env)  # looks at the database directly, not through the proxy
    try:
        async with RabbitBroker(vhost.url, logger=None) as broker:
            await broker.connect()
            bus = RabbitBus(broker)
            skus = {f"S{i}": "Q2 2027" for i in range(30)}
            await publish_run(bus, RunScript(skus))
            await eventually(lambda: topics(check).count("RunLog.RunCompared") == 4, "baseline")

            await proxy.close()  # the database goes away
            await publish_command(bus, placed("A-1", ["S1", "S2"]))
            await publish_run(
                bus, RunScript({**skus, "S1": "Q4 2027"}, at=NOW + dt.timedelta(hours=1))
            )
            # RabbitMQ holds the run's and the command's messages unacknowledged meanwhile.
            await eventually(lambda: unacknowledged(vhost) > 0, "unacknowledged messages")
            assert topics(check).count("RunLog.RunCompared") == 4
            assert "Order.Placed" not in topics(check)
            assert consumer.ledger.stats.runs_compared == 4

            await proxy.open()  # and comes back on the same port
            await eventually(lambda: topics(check).count("RunLog.RunCompared") == 8, "the change")
            await eventually(lambda: "Order.Placed" in topics(check), "the command")
            names = topics(check)
            assert names.count("SupplierItem.EtaChanged") == 1
            assert names.count("SupplierItem.FirstSeen") == 30
            await eventually(lambda: unacknowledged(vhost) == 0, "every message acknowledged")
    finally:
        await consumer.stop()
        await proxy.close()
        store.close()
        check.close()


def unacknowledged(vhost: RabbitVhost) -> int:
    """Messages delivered to a consumer and not yet acknowledged, over the vhost's queues."""
    result = subprocess.run(
        [
            "rabbitmqctl",
            "list_queues",
            "-p",
            vhost.name,
            "name",
            "messages_unacknowledged",
            "--quiet",
            "--no-table-headers",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return sum(int(line.split()[1]) for line in result.stdout.splitlines() if line.strip())


def two_partition_skus(partitions: int) -> tuple[str, str]:
    by_partition: dict[int, str] = {}
    for i in range(100):
        by_partition.setdefault(partition_of("acme", f"S{i}", partitions), f"S{i}")
    return by_partition[0], by_partition[1]


async def test_an_order_changed_from_two_partitions_at_once_is_resolved_by_retry(
    db: PostgresDatabase,
) -> None:
    first = new_ledger(LedgerStore(env=db.env), partitions=4)
    second = new_ledger(LedgerStore(env=db.env), partitions=4)
    sku_a, sku_b = two_partition_skus(4)
    await first.handle_command(placed("A-1", [sku_a, sku_b]))
    await feed(first, RunScript({sku_a: "Q2 2027", sku_b: "Q2 2027"}))
    change = RunScript({sku_a: "Q3 2027", sku_b: "Q4 2027"}, at=NOW + dt.timedelta(hours=1))
    envelopes_a = change.for_partition(partition_of("acme", sku_a, 4), 4)
    envelopes_b = change.for_partition(partition_of("acme", sku_b, 4), 4)

    # The second ledger plans its save of the order; just before it saves, the first one saves
    # its own change of the same order: the second must lose, plan again, and save.
    real_save = second.store.save_all
    crossed: list[bool] = []

    def save_after_the_other(events: Sequence[Any], aggregates: Sequence[Any]) -> Any:
        if not crossed:
            crossed.append(True)
            first._handle_batch(envelopes_a, partition_of("acme", sku_a, 4))
        return real_save(events, aggregates)

    second.store.save_all = save_after_the_other  # type: ignore[method-assign]
    await second.handle_batch(envelopes_b, partition_of("acme", sku_b, 4))
    assert second.stats.conflicts == 1
    check = LedgerStore(env=db.env)
    order = [
        n
        for n in check.recorder.select_notifications(0, 1000, inclusive_of_start=False)
        if n.topic.endswith(("Order.Placed", "Order.LineItemChanged"))
    ]
    assert [n.originator_version for n in order] == [1, 2, 3]
    assert topics(check).count("Order.LineItemChanged") == 2
    for ledger in (first, second):
        ledger.store.close()
    check.close()
