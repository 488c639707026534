"""The RabbitMQ bus against a real broker: topology, confirmed publishing, dead-lettering."""

import asyncio
import datetime as dt
import uuid

import aio_pika
import pytest
from etawatch_testing.infra import RabbitVhost
from faststream.rabbit import RabbitBroker

from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import open_as, wrap
from etawatch.contracts.eta import parse_eta
from etawatch.contracts.messages import ItemAvailabilityObserved
from etawatch.contracts.topology import (
    ERROR_HEADER,
    SCRAPE_EXCHANGE,
    ledger_observation_queue,
    observed_routing_key,
    partition_of,
)
from etawatch.runtime.rabbit import RabbitBus, declare_topology

pytestmark = pytest.mark.integration
NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)


async def test_publish_reaches_the_partition_queue_and_dead_letters_keep_the_reason(
    rabbit: RabbitVhost,
) -> None:
    sku = f"SKU-{uuid.uuid4().hex[:6]}"
    spec = ledger_observation_queue(partition_of("acme", sku))
    message = ItemAvailabilityObserved(
        run_id=uuid.uuid4(),
        supplier="acme",
        sku=sku,
        name="Figure",
        availability=Availability.PRE_ORDER,
        availability_raw="Předobjednávka",
        eta=parse_eta("Q2 2027", NOW.date()),
        observed_at=NOW,
        position=0,
    )
    envelope = wrap(message, id="obs-1", source="/test")
    async with RabbitBroker(rabbit.url) as broker:
        await broker.connect()
        await declare_topology(broker, (spec,))
        bus = RabbitBus(broker)
        await bus.publish(
            envelope, exchange=SCRAPE_EXCHANGE, routing_key=observed_routing_key("acme", sku)
        )
        await bus.dead_letter(spec, b"{broken", "body is not JSON")

    connection = await aio_pika.connect(rabbit.url)
    async with connection:
        channel = await connection.channel()
        q = await channel.get_queue(spec.name, ensure=True)
        async with q.iterator(timeout=5) as messages:  # a single-active-consumer queue: consume
            got = await anext(messages)
            await got.ack()
        assert got.message_id == "obs-1"
        assert got.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert open_as(got.body, ItemAvailabilityObserved).data.sku == sku

        dlq = await channel.get_queue(spec.dlq_name, ensure=True)
        dead = await dlq.get(timeout=5)
        assert dead is not None
        await dead.ack()
        assert dead.body == b"{broken"
        assert dead.headers[ERROR_HEADER] == "body is not JSON"
    await asyncio.sleep(0)
