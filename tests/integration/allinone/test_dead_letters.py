"""`etawatch dead-letters` reads the reason of each refused message, and can purge or requeue."""

import aio_pika
import pytest
from etawatch_testing.infra import RabbitVhost
from faststream.rabbit import RabbitBroker

from etawatch.allinone.deadletters import read_dead_letters
from etawatch.contracts.topology import NOTIFIER_CHANGES, all_queues
from etawatch.runtime.rabbit import RabbitBus, declare_topology

pytestmark = pytest.mark.integration


async def test_list_then_requeue_then_purge(rabbit: RabbitVhost) -> None:
    async with RabbitBroker(rabbit.url, logger=None) as broker:
        await broker.connect()
        await declare_topology(broker, all_queues())
        bus = RabbitBus(broker)
        await bus.dead_letter(NOTIFIER_CHANGES, b"{broken", "body is not JSON")
        await bus.dead_letter(NOTIFIER_CHANGES, b"[]", "body is not a JSON object")

    listed = await read_dead_letters(rabbit.url)
    assert sorted(d.reason for d in listed) == ["body is not JSON", "body is not a JSON object"]
    assert {d.queue for d in listed} == {NOTIFIER_CHANGES.name}
    again = await read_dead_letters(rabbit.url, queues=[NOTIFIER_CHANGES.name])
    assert len(again) == 2, "listing must leave the messages in place"

    requeued = await read_dead_letters(rabbit.url, queues=[NOTIFIER_CHANGES.name], requeue=True)
    assert len(requeued) == 2
    assert await read_dead_letters(rabbit.url) == []
    connection = await aio_pika.connect(rabbit.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(NOTIFIER_CHANGES.name, ensure=True)
        back = [await queue.get(timeout=5), await queue.get(timeout=5)]
        assert sorted(m.body for m in back if m is not None) == [b"[]", b"{broken"]
        for message in back:
            if message is not None:
                await message.reject(requeue=False)  # into the DLQ again, by RabbitMQ this time

    purged = await read_dead_letters(rabbit.url, purge=True)
    assert len(purged) == 2
    assert all("rejected" in d.reason for d in purged)
    assert await read_dead_letters(rabbit.url) == []
