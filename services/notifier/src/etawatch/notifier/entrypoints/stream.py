"""The distributed mode: consume ``notifier.changes`` from RabbitMQ with FastStream.

A message is acked only after ``handle`` stored it. A body that is not a valid envelope of a
known message, or a message the notifier does not handle, goes to ``notifier.changes.dlq`` with
the reason; anything else that fails is nacked and redelivered until the queue's delivery limit
dead-letters it.
"""

import asyncio
import contextlib

from faststream import AckPolicy, FastStream
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from etawatch.contracts.envelope import EnvelopeError, open_envelope
from etawatch.contracts.topology import NOTIFIER_CHANGES
from etawatch.notifier.application.service import NotifierService
from etawatch.runtime.bus import PoisonMessage
from etawatch.runtime.log import get_logger
from etawatch.runtime.rabbit import RabbitBus, declare_topology, queue

log = get_logger(__name__)


def register_consumer(broker: RabbitBroker, service: NotifierService, bus: RabbitBus) -> None:
    @broker.subscriber(queue(NOTIFIER_CHANGES), ack_policy=AckPolicy.MANUAL)
    async def on_change(message: RabbitMessage) -> None:
        body = message.body
        try:
            await service.handle(open_envelope(body))
        except (EnvelopeError, PoisonMessage) as exc:
            log.warning("message dead-lettered", queue=NOTIFIER_CHANGES.name, reason=str(exc))
            await bus.dead_letter(NOTIFIER_CHANGES, body, str(exc))
            await message.ack()
            return
        except Exception as exc:
            log.exception("handling failed, message will be redelivered", error=repr(exc))
            await message.nack(requeue=True)
            return
        await message.ack()


async def start_consuming(broker: RabbitBroker) -> None:
    """Connect, declare the exchanges and the notifier's queues, then start consuming."""
    await broker.connect()
    await declare_topology(broker, (NOTIFIER_CHANGES,))
    await broker.start()


async def flush_forever(service: NotifierService, interval: float) -> None:
    """The background loop: one ``flush_due`` every ``interval`` seconds, errors logged."""
    while True:
        try:
            await service.flush_due()
        except Exception as exc:  # the next round tries again; nothing is lost in the store
            log.exception("flush failed", error=repr(exc))
        await asyncio.sleep(interval)


def create_app(broker: RabbitBroker, service: NotifierService, interval: float) -> FastStream:
    """The FastStream application of ``etawatch-notifier run``."""
    register_consumer(broker, service, RabbitBus(broker))
    app = FastStream(broker)
    tasks: list[asyncio.Task[None]] = []

    @app.on_startup
    async def declare() -> None:
        await broker.connect()
        await declare_topology(broker, (NOTIFIER_CHANGES,))

    @app.after_startup
    async def start_flushing() -> None:
        tasks.append(asyncio.create_task(flush_forever(service, interval)))

    @app.on_shutdown
    async def stop_flushing() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return app
