"""Ledger replicas over real RabbitMQ and PostgreSQL, as the integration tests start them."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aio_pika
from faststream.rabbit import RabbitBroker

from etawatch.contracts.topology import NOTIFIER_CHANGES
from etawatch.ledger.adapters.advisory_lease import relay_lease
from etawatch.ledger.application.service import Ledger, LedgerOptions
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.entrypoints.stream import ConsumerOptions, LedgerConsumer
from etawatch.runtime.rabbit import RabbitBus, declare_topology
from etawatch_testing.infra import PostgresDatabase, RabbitVhost
from etawatch_testing.ledger import eventually

FAST = ConsumerOptions(batch_size=50, batch_seconds=0.05, prefetch=200, relay_interval=0.05)


@dataclass
class Stack:
    vhost: RabbitVhost
    db: PostgresDatabase
    bus: RabbitBus
    consumers: list[LedgerConsumer]

    async def replica(self, env: dict[str, str] | None = None) -> LedgerConsumer:
        """A replica as ``etawatch-ledger run`` builds it (its relay lease chosen by the store)."""
        store = LedgerStore(env=env or self.db.env)
        ledger = Ledger(store, LedgerOptions(), relay_lease(store))
        consumer = LedgerConsumer(ledger, RabbitBroker(self.vhost.url, logger=None), FAST)
        await consumer.start()
        self.consumers.append(consumer)
        return consumer

    async def stop(self, consumer: LedgerConsumer) -> None:
        await consumer.stop()
        self.consumers.remove(consumer)
        consumer.ledger.store.close()


@asynccontextmanager
async def ledger_stack(vhost: RabbitVhost, db: PostgresDatabase) -> AsyncIterator[Stack]:
    """A bus on the virtual host with the notifier's queue declared; replicas stopped at exit."""
    async with RabbitBroker(vhost.url, logger=None) as broker:
        await broker.connect()
        await declare_topology(broker, (NOTIFIER_CHANGES,))
        stack = Stack(vhost, db, RabbitBus(broker), [])
        try:
            yield stack
        finally:
            for consumer in list(stack.consumers):
                await stack.stop(consumer)


async def take(
    vhost: RabbitVhost, queue: str, count: int, *, distinct: bool = False
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Take ``count`` messages (``distinct``: with different ids) from a queue, acking them."""
    got: list[aio_pika.abc.AbstractIncomingMessage] = []
    connection = await aio_pika.connect(vhost.url)
    async with connection:
        channel = await connection.channel()
        q = await channel.get_queue(queue, ensure=True)

        async def more() -> bool:
            message = await q.get(fail=False)
            if message is not None:
                await message.ack()
                got.append(message)
            return len({m.message_id for m in got} if distinct else got) >= count

        await eventually(more, f"{count} messages on {queue}")
    return got


async def queued(vhost: RabbitVhost, queue: str) -> int:
    """How many messages wait in a queue now."""
    connection = await aio_pika.connect(vhost.url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0
