"""The ledger on RabbitMQ through FastStream: partition consumers, order consumer, relay loop.

Every queue is read by one task, sequentially, in the order RabbitMQ delivers it (FastStream's
per-message handlers run as concurrent tasks and may reach the application out of order; a run's
outcome overtaking one of its rows, or a close overtaking its order, would be wrong). Each
partition queue (single active consumer, so one replica at a time reads it) feeds a ``Batcher``;
``ledger.orders`` is handled one message at a time. Acknowledgement is manual and comes after the
commit; unreadable or refused messages go to the queue's DLQ with the reason.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.message import RabbitMessage
from faststream.rabbit.schemas import Channel

from etawatch.contracts.envelope import EnvelopeError, open_envelope
from etawatch.contracts.topology import LEDGER_ORDERS, QueueSpec, ledger_observation_queue
from etawatch.ledger.adapters.batching import Batcher, DeadLetter, Delivery, until_stored
from etawatch.ledger.application.service import Ledger
from etawatch.runtime.bus import PoisonMessage
from etawatch.runtime.log import get_logger
from etawatch.runtime.rabbit import RabbitBus, declare_topology, queue

log = get_logger(__name__)


@dataclass(frozen=True)
class ConsumerOptions:
    batch_size: int = 1000
    batch_seconds: float = 0.2
    prefetch: int = 2000
    relay: bool = True
    relay_interval: float = 0.5
    reread_pause: float = 1.0
    """Pause before a queue whose consumer ended or failed is read again."""


@dataclass
class LedgerConsumer:
    """Wires a ``Ledger`` to a broker. ``start`` declares, subscribes and starts the loops."""

    ledger: Ledger
    broker: RabbitBroker
    options: ConsumerOptions = field(default_factory=ConsumerOptions)
    batchers: dict[int, Batcher] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    _queues: list[tuple[Any, Callable[[RabbitMessage], Awaitable[None]]]] = field(
        default_factory=list
    )

    def __post_init__(self) -> None:
        self.bus = RabbitBus(self.broker)
        for partition in range(self.ledger.options.partitions):
            self._subscribe_partition(partition)
        self._subscribe_orders()

    def _dead_letter(self, spec: QueueSpec) -> DeadLetter:
        async def dead_letter(body: bytes, reason: str) -> None:
            log.warning("message dead-lettered", queue=spec.name, reason=reason)
            await self.bus.dead_letter(spec, body, reason)

        return dead_letter

    def _channel(self) -> Channel:
        return Channel(prefetch_count=self.options.prefetch)

    def _subscriber(self, spec: QueueSpec, name: str) -> Any:
        """A subscriber without a handler: ``_read`` iterates it in delivery order."""
        return self.broker.subscriber(
            queue(spec),
            ack_policy=AckPolicy.MANUAL,
            channel=self._channel(),
            no_reply=True,
            title=f"{spec.name}:_:{name}",
        )

    def _subscribe_partition(self, partition: int) -> None:
        spec = ledger_observation_queue(partition)
        batcher = Batcher(
            lambda envelopes: self.ledger.handle_batch(envelopes, partition),
            self._dead_letter(spec),
            size=self.options.batch_size,
            seconds=self.options.batch_seconds,
        )
        self.batchers[partition] = batcher

        async def to_inbox(msg: RabbitMessage) -> None:
            batcher.inbox.put_nowait(msg)

        self._queues.append((self._subscriber(spec, "OnObservation"), to_inbox))

    def _subscribe_orders(self) -> None:
        dead_letter = self._dead_letter(LEDGER_ORDERS)

        async def on_command(msg: RabbitMessage) -> None:
            await self.handle_command(msg, dead_letter)

        self._queues.append((self._subscriber(LEDGER_ORDERS, "OnCommand"), on_command))

    async def _read(
        self,
        subscriber: AsyncIterator[RabbitMessage],
        take: Callable[[RabbitMessage], Awaitable[None]],
    ) -> None:
        """Hand each delivery of one queue to ``take``, one after the other, in order.

        If the broker ends the consumer (the queue was deleted, the channel closed) or reading
        fails, the queue is read again after ``reread_pause``: what was not acknowledged comes
        again.
        """
        while True:
            try:
                async for msg in subscriber:
                    await take(msg)
                log.warning("the broker ended a consumer, reading its queue again")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reading a queue failed, reading it again", error=repr(exc))
            await asyncio.sleep(self.options.reread_pause)

    async def handle_command(self, delivery: Delivery, dead_letter: DeadLetter) -> None:
        try:
            envelope = open_envelope(delivery.body)
        except EnvelopeError as exc:
            await dead_letter(delivery.body, str(exc))
            await delivery.ack()
            return

        async def record() -> None:
            try:
                await self.ledger.handle_command(envelope)
            except PoisonMessage as exc:
                await dead_letter(delivery.body, str(exc))

        try:
            await until_stored(record)
        except Exception:
            log.exception("command failed, it goes back to the queue", id=envelope.id)
            await delivery.nack(requeue=True)
            return
        await delivery.ack()

    async def start(self) -> None:
        await self.ledger.start()
        await self.broker.connect()
        # The subscribers declare their queues on their own channels first (see
        # ``declare_topology``); nothing is consumed before the readers below start.
        await self.broker.start()
        await declare_topology(self.broker, self.specs())
        self.readers = [asyncio.create_task(self._read(sub, take)) for sub, take in self._queues]
        self.tasks = [asyncio.create_task(b.run()) for b in self.batchers.values()]
        if self.options.relay:
            self.tasks.append(asyncio.create_task(self.relay_loop()))

    def specs(self) -> tuple[QueueSpec, ...]:
        partitions = self.ledger.options.partitions
        return (*(ledger_observation_queue(p) for p in range(partitions)), LEDGER_ORDERS)

    async def relay_loop(self) -> None:
        pause = self.options.relay_interval
        while True:
            try:
                relayed = await self.ledger.relay_once(self.bus)
            except Exception as exc:
                log.warning("relay step failed, retrying", error=repr(exc))
                await asyncio.sleep(pause)
                continue
            if relayed == 0:
                await asyncio.sleep(pause)

    async def stop(self) -> None:
        """Stop reading, let the batches being committed finish and be acknowledged, then close.

        What was read but not handled stays unacknowledged: RabbitMQ gives it to the next
        consumer of the queue.
        """
        await _cancel(self.readers)
        for batcher in self.batchers.values():
            await batcher.busy.acquire()  # the batch in hand is committed and acknowledged
        await _cancel(self.tasks)
        await self.ledger.release_relay()
        for batcher in self.batchers.values():
            batcher.busy.release()
        await self.broker.stop()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
