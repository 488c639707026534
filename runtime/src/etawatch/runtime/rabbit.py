"""RabbitMQ through FastStream: topology declaration, durable publishing, dead-lettering.

Publishing is persistent, mandatory and confirmed (FastStream's channels use publisher
confirms): ``publish`` returns once the broker has the message. Consumers ack manually after
their work is committed; a message they can never process goes to ``<queue>.dlq`` with the
reason in the ``x-etawatch-error`` header, and the consumer goes on.
"""

from typing import Any, cast

from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.schemas.queue import QuorumQueueArgs

from etawatch.contracts.envelope import Envelope, to_json
from etawatch.contracts.topology import (
    DEAD_LETTER_EXCHANGE,
    ERROR_HEADER,
    EXCHANGES,
    QueueSpec,
)
from etawatch.runtime.health import Check

CONTENT_TYPE = "application/cloudevents+json"


def exchange(name: str) -> RabbitExchange:
    return RabbitExchange(name, type=ExchangeType.TOPIC, durable=True)


def queue(spec: QueueSpec) -> RabbitQueue:
    return RabbitQueue(
        spec.name,
        queue_type=QueueType.QUORUM,
        durable=True,
        arguments=cast(QuorumQueueArgs, spec.arguments),
    )


def dead_letter_queue(spec: QueueSpec) -> RabbitQueue:
    return RabbitQueue(
        spec.dlq_name, queue_type=QueueType.QUORUM, durable=True, routing_key=spec.name
    )


async def declare_topology(broker: RabbitBroker, specs: tuple[QueueSpec, ...] = ()) -> None:
    """Declare every exchange, the given queues with their DLQs, then the queues' bindings.

    A queue's DLQ is bound before the queue itself is: a consumer that already reads the queue
    can dead-letter the first message that reaches it.

    Call it after ``broker.start()`` when the broker has subscribers: FastStream keeps the queue
    objects it declared, and a queue declared here first would be consumed on the broker's shared
    default channel, without the subscriber's own channel and prefetch.
    """
    for name in EXCHANGES:
        await broker.declare_exchange(exchange(name))
    dlx = await broker.declare_exchange(
        RabbitExchange(DEAD_LETTER_EXCHANGE, type=ExchangeType.DIRECT, durable=True)
    )
    for spec in specs:
        declared = await broker.declare_queue(queue(spec))
        dlq = await broker.declare_queue(dead_letter_queue(spec))
        await dlq.bind(dlx, routing_key=spec.name)
        for binding in spec.bindings:
            source = await broker.declare_exchange(exchange(binding.exchange))
            await declared.bind(source, routing_key=binding.routing_key)


class RabbitBus:
    """``MessageBus`` over RabbitMQ: persistent, mandatory, confirmed publishing."""

    def __init__(self, broker: RabbitBroker) -> None:
        self.broker = broker

    async def publish(self, envelope: Envelope[Any], *, exchange: str, routing_key: str) -> None:
        await self.broker.publish(
            to_json(envelope),
            exchange=exchange_for(exchange),
            routing_key=routing_key,
            persist=True,
            mandatory=True,
            message_id=envelope.id,
            correlation_id=envelope.correlation_id,
            content_type=CONTENT_TYPE,
            message_type=envelope.type,
            timestamp=envelope.time,
        )

    async def dead_letter(
        self, spec: QueueSpec, body: bytes, reason: str, headers: dict[str, Any] | None = None
    ) -> None:
        """Put a message that can never be processed on the queue's DLQ, with the reason."""
        await self.broker.publish(
            body,
            exchange=RabbitExchange(DEAD_LETTER_EXCHANGE, type=ExchangeType.DIRECT, durable=True),
            routing_key=spec.name,
            persist=True,
            headers={**(headers or {}), ERROR_HEADER: reason[:4000]},
            content_type=CONTENT_TYPE,
        )


def broker_check(broker: RabbitBroker, wait: float = 1.0) -> Check:
    """Readiness of a consumer: its connection to RabbitMQ is up (it reconnects by itself)."""

    async def check() -> None:
        if not await broker.ping(timeout=wait):
            raise ConnectionError("RabbitMQ does not answer")

    return check


def exchange_for(name: str) -> RabbitExchange:
    return exchange(name)
