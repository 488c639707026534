"""Read the dead-letter queues: what was refused, and why.

Every consumer queue has a ``<queue>.dlq`` (``etawatch.contracts.topology``). A message lands
there with the reason in the ``x-etawatch-error`` header (or RabbitMQ's ``x-death`` when the
delivery limit was reached). Listing returns the messages to their queue; ``--purge`` removes
them once read, ``--requeue`` sends them back to the queue they came from (after a fix).
"""

from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from etawatch.contracts.topology import ERROR_HEADER, all_queues


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str | None
    type: str | None
    reason: str
    body: bytes


def _reason(message: AbstractIncomingMessage) -> str:
    headers: dict[str, Any] = dict(message.headers or {})
    if ERROR_HEADER in headers:
        return str(headers[ERROR_HEADER])
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths:
        death = deaths[0]
        if isinstance(death, dict):
            reason, count = death.get("reason", "dead-lettered"), death.get("count", "?")
            return f"{reason} (after {count} deliveries)"
    return "no reason recorded"


async def read_dead_letters(
    amqp_url: str,
    *,
    queues: list[str] | None = None,
    purge: bool = False,
    requeue: bool = False,
    limit: int = 100,
) -> list[DeadLetter]:
    """Read up to ``limit`` messages of each dead-letter queue."""
    names = queues or [spec.name for spec in all_queues()]
    found: list[DeadLetter] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in names:
            try:
                dlq = await channel.get_queue(f"{name}.dlq", ensure=True)
            except aio_pika.exceptions.ChannelClosed:
                channel = await connection.channel()
                continue  # that consumer never ran here: no dead-letter queue yet
            taken: list[AbstractIncomingMessage] = []
            for _ in range(limit):
                message = await dlq.get(no_ack=False, fail=False)
                if message is None:
                    break
                taken.append(message)
                found.append(
                    DeadLetter(
                        name, message.message_id, message.type, _reason(message), message.body
                    )
                )
            for message in taken:
                if requeue:
                    await channel.default_exchange.publish(
                        aio_pika.Message(
                            message.body,
                            message_id=message.message_id,
                            content_type=message.content_type,
                            type=message.type,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=name,
                    )
                    await message.ack()
                elif purge:
                    await message.ack()
                else:
                    await message.nack(requeue=True)
    return found
