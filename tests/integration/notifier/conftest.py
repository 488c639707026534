"""A notifier wired to real RabbitMQ (its own virtual host), a real SMTP server on loopback and
a SQLite file; the tests drive time with a fake clock and call ``flush_due`` themselves."""

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import pytest
from etawatch_testing.infra import RabbitVhost, rabbit_vhost
from etawatch_testing.notifier import SHOP, FakeClock
from etawatch_testing.smtp import SmtpServer, smtp_server
from faststream.rabbit import RabbitBroker

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, open_envelope, to_json
from etawatch.contracts.topology import LEDGER_EXCHANGE, NOTIFICATIONS_EXCHANGE, NOTIFIER_CHANGES
from etawatch.notifier.adapters.smtp import SmtpConfig, SmtpTransport
from etawatch.notifier.adapters.sql.database import SqliteDatabase
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.service import DeliveryOptions, NotifierService
from etawatch.notifier.domain.policy import NotificationPolicy
from etawatch.notifier.entrypoints.stream import register_consumer, start_consuming
from etawatch.notifier.rendering.compose import EmailComposer
from etawatch.runtime.rabbit import RabbitBus

T = TypeVar("T")
PREFETCH = 7


@pytest.fixture(scope="module")
def vhost() -> Iterator[RabbitVhost]:
    """The notifier's tests get a virtual host of their own: nobody else reads their queues."""
    with rabbit_vhost(prefix="etawatch-test-notifier") as own:
        yield own


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 15.0) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"nothing after {within}s")
        await asyncio.sleep(0.05)


@dataclass
class Harness:
    service: NotifierService
    store: SqlNotifierStore
    clock: FakeClock
    smtp: SmtpServer
    channel: aio_pika.abc.AbstractChannel
    outcomes: aio_pika.abc.AbstractQueue

    async def publish(self, body: bytes, routing_key: str = "eta.changed.acme") -> None:
        exchange = await self.channel.get_exchange(LEDGER_EXCHANGE)
        await exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=routing_key,
        )

    async def publish_envelope(self, envelope: Envelope[Any]) -> None:
        await self.publish(to_json(envelope))

    async def stored(self, shop_order_id: str, count: int = 1) -> int:
        """Wait until the consumer stored ``count`` pending changes of the order."""

        async def check() -> int:
            stored = len(await self.store.pending_of(shop_order_id))
            return stored if stored >= count else 0

        return await eventually(check)

    async def next_outcome(self) -> Envelope[Message]:
        async def check() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await self.outcomes.get(fail=False)

        message = await eventually(check, 10.0)
        await message.ack()
        return open_envelope(message.body)

    async def dead_letter(self) -> aio_pika.abc.AbstractIncomingMessage:
        dlq = await self.channel.get_queue(NOTIFIER_CHANGES.dlq_name, ensure=True)

        async def check() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await dlq.get(fail=False)

        message = await eventually(check)
        await message.ack()
        return message


@pytest.fixture
async def harness(vhost: RabbitVhost, smtp: SmtpServer, tmp_path: Path) -> AsyncIterator[Harness]:
    clock = FakeClock()
    store = SqlNotifierStore(SqliteDatabase(str(tmp_path / "notifier.db")))
    await store.create_tables()
    broker = RabbitBroker(vhost.url, logger=None)
    bus = RabbitBus(broker)
    service = NotifierService(
        store=store,
        transport=SmtpTransport(
            SmtpConfig.from_url(smtp.url, attempts=3, wait_seconds=0.05, timeout=5)
        ),
        bus=bus,
        composer=EmailComposer(SHOP, "cs"),
        clock=clock,
        policy=NotificationPolicy(),
        options=DeliveryOptions(
            operator_email="provoz@figurky.example", retry_backoff=dt.timedelta(minutes=1)
        ),
    )
    register_consumer(broker, service, bus, PREFETCH)
    await start_consuming(broker)
    connection = await aio_pika.connect_robust(vhost.url)
    channel = await connection.channel()
    outcomes = await channel.declare_queue(exclusive=True)
    await outcomes.bind(NOTIFICATIONS_EXCHANGE, "#")
    try:
        yield Harness(service, store, clock, smtp, channel, outcomes)
    finally:
        await broker.stop()
        await connection.close()
        await store.close()
