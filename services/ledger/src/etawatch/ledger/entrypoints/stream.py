"""The ledger on RabbitMQ through FastStream: partition consumers, order consumer, relay loop.

Every partition queue (single active consumer, so one replica at a time reads it) feeds a
``Batcher``; ``ledger.orders`` is handled one message at a time. Acknowledgement is manual and
comes after the commit; unreadable or refused messages go to the queue's DLQ with the reason.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field

from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
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


@dataclass
class LedgerConsumer:
    """Wires a ``Ledger`` to a broker. ``start`` declares, subscribes and starts the loops."""

    ledger: Ledger
    broker: RabbitBroker
    options: ConsumerOptions = field(default_factory=ConsumerOptions)
    batchers: dict[int, Batcher] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

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

    def _subscribe_partition(self, partition: int) -> None:
        spec = ledger_observation_queue(partition)

        batcher = Batcher(
            lambda envelopes: self.ledger.handle_batch(envelopes, partition),
            self._dead_letter(spec),
            size=self.options.batch_size,
            seconds=self.options.batch_seconds,
        )
        self.batchers[partition] = batcher

        @self.broker.subscriber(
            queue(spec), ack_policy=AckPolicy.MANUAL, channel=self._channel(), no_reply=True
        )
        async def on_observation(msg: RabbitMessage) -> None:
            await batcher.add(msg)

    def _subscribe_orders(self) -> None:
        dead_letter = self._dead_letter(LEDGER_ORDERS)

        @self.broker.subscriber(
            queue(LEDGER_ORDERS),
            ack_policy=AckPolicy.MANUAL,
            channel=self._channel(),
            no_reply=True,
        )
        async def on_command(msg: RabbitMessage) -> None:
            await self.handle_command(msg, dead_letter)

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
        await declare_topology(self.broker, self.specs())
        await self.broker.start()
        self.tasks = [asyncio.create_task(b.run_timer()) for b in self.batchers.values()]
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
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.broker.stop()
