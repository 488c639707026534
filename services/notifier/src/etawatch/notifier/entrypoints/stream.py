"""The distributed mode: consume ``notifier.changes`` from RabbitMQ with FastStream.

A message is acked only after ``handle`` stored it. A body that is not a valid envelope of a
known message, or a message the notifier does not handle, goes to ``notifier.changes.dlq`` with
the reason; anything else that fails is nacked and redelivered until the queue's delivery limit
dead-letters it.

Up to ``prefetch`` messages are handled at the same time (FastStream runs each delivery as a task
of its own), so they may be stored in another order than RabbitMQ delivered them. That is safe:
the notifier orders an item's changes by when they were observed, not by when they arrived
(``domain.digest``), as it must anyway for redeliveries and for several replicas.
"""

import asyncio
import contextlib
import datetime as dt

from faststream import AckPolicy, FastStream
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
from faststream.rabbit.schemas import Channel

from etawatch.contracts.envelope import EnvelopeError, open_envelope
from etawatch.contracts.topology import NOTIFIER_CHANGES
from etawatch.notifier.application.service import NotifierService
from etawatch.runtime.bus import PoisonMessage
from etawatch.runtime.log import get_logger
from etawatch.runtime.rabbit import RabbitBus, declare_topology, queue

log = get_logger(__name__)


def register_consumer(
    broker: RabbitBroker,
    service: NotifierService,
    bus: RabbitBus,
    prefetch: int,
) -> None:
    """Subscribe ``service`` to ``notifier.changes`` on a channel of its own, with ``prefetch``."""

    @broker.subscriber(
        queue(NOTIFIER_CHANGES),
        ack_policy=AckPolicy.MANUAL,
        channel=Channel(prefetch_count=prefetch),
    )
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
    """Start consuming, then declare the exchanges, the queue's bindings and its DLQ.

    In this order so that the subscriber keeps its own channel (see ``declare_topology``).
    """
    await broker.start()
    await declare_topology(broker, (NOTIFIER_CHANGES,))


async def flush_forever(service: NotifierService, interval: float) -> None:
    """The background loop: one ``flush_due`` every ``interval`` seconds, errors logged."""
    while True:
        try:
            await service.flush_due()
        except Exception as exc:  # the next round tries again; nothing is lost in the store
            log.exception("flush failed", error=repr(exc))
        await asyncio.sleep(interval)


async def prune_forever(
    service: NotifierService, retention: dt.timedelta, interval: dt.timedelta
) -> None:
    """The retention loop: one ``prune`` every ``interval``, the first at start, errors logged."""
    while True:
        try:
            await service.prune(retention)
        except Exception as exc:  # the next round tries again; only old finished rows wait
            log.exception("prune failed", error=repr(exc))
        await asyncio.sleep(interval.total_seconds())


def create_app(
    broker: RabbitBroker,
    service: NotifierService,
    interval: float,
    prefetch: int,
    *,
    retention: dt.timedelta | None = None,
    prune_every: dt.timedelta | None = None,
) -> FastStream:
    """The FastStream application of ``etawatch-notifier run``; it also prunes every
    ``prune_every`` when given both that and ``retention``."""
    register_consumer(broker, service, RabbitBus(broker), prefetch)
    app = FastStream(broker)
    tasks: list[asyncio.Task[None]] = []

    @app.after_startup
    async def declare_and_start_flushing() -> None:
        await declare_topology(broker, (NOTIFIER_CHANGES,))  # after start: see its docstring
        tasks.append(asyncio.create_task(flush_forever(service, interval)))
        if retention is not None and prune_every:
            tasks.append(asyncio.create_task(prune_forever(service, retention, prune_every)))

    @app.on_shutdown
    async def stop_flushing() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return app
