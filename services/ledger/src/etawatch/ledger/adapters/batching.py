"""Batches of broker messages, in delivery order, acknowledged only after their batch is committed.

A partition queue is read by one task, in the order RabbitMQ delivered it, into an inbox; the
batcher takes from the inbox until ``size`` messages are held or ``seconds`` have passed since
the first, hands them to the ledger together, then acknowledges the whole batch with one
``multiple`` acknowledgement. While a batch is being committed the reader keeps filling the
inbox (up to the channel's prefetch), so the broker and the store work at the same time.

Order matters: a run's rows must reach the ledger before the run's outcome. Handlers that the
broker client calls per message run as concurrent tasks and can reach the application out of
delivery order, so the ledger reads its queues sequentially instead.

A message that cannot be read goes to the dead-letter queue with the reason at once; one the
ledger refuses goes there after its batch. When the store cannot be reached the batch is kept
and retried with a growing pause: its messages stay unacknowledged (RabbitMQ keeps them) and
nothing else is consumed meanwhile.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from eventsourcing.persistence import InterfaceError, OperationalError

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, EnvelopeError, open_envelope
from etawatch.ledger.application.service import Rejected
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError)
"""Failures that mean "the database is not there right now": wait and try again."""


class Delivery(Protocol):
    """One delivered message (FastStream's ``RabbitMessage`` is one).

    ``ack(multiple=True)`` acknowledges it and every earlier delivery of its channel.
    """

    @property
    def body(self) -> bytes: ...

    async def ack(self, multiple: bool = False) -> None: ...

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None: ...


BatchHandler = Callable[[Sequence[Envelope[Message]]], Awaitable[list[Rejected]]]
DeadLetter = Callable[[bytes, str], Awaitable[None]]


class Batcher:
    """Takes deliveries of one channel, in order, from an inbox and handles them in batches."""

    def __init__(
        self,
        handle: BatchHandler,
        dead_letter: DeadLetter,
        *,
        size: int,
        seconds: float,
        max_pause: float = 30.0,
    ) -> None:
        self.handle = handle
        self.dead_letter = dead_letter
        self.size = size
        self.seconds = seconds
        self.max_pause = max_pause
        self.inbox: asyncio.Queue[Delivery] = asyncio.Queue()
        self.busy = asyncio.Lock()
        """Held while a batch is handled and acknowledged: a clean stop waits for it."""
        self.failures = 0
        self.batches = 0

    async def run(self) -> None:
        while True:
            batch = await self.collect()
            async with self.busy:
                await self.process(batch)

    async def collect(self) -> list[Delivery]:
        """The next batch: wait for one delivery, then take more until full or out of time."""
        batch = [await self.inbox.get()]
        deadline = time.monotonic() + self.seconds
        while len(batch) < self.size:
            if not self.inbox.empty():
                batch.append(self.inbox.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.inbox.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def process(self, deliveries: Sequence[Delivery]) -> None:
        """Handle one batch and acknowledge it; on an unexpected error put it back."""
        readable: list[tuple[Delivery, Envelope[Message]]] = []
        for delivery in deliveries:
            try:
                readable.append((delivery, open_envelope(delivery.body)))
            except EnvelopeError as exc:
                await self.dead_letter(delivery.body, str(exc))
                await delivery.ack()
        if not readable:
            return
        last = readable[-1][0]
        try:
            rejected = await self._handle_until_stored([e for _, e in readable])
        except Exception:
            log.exception("batch failed, its messages go back to the queue")
            await last.nack(multiple=True, requeue=True)
            return
        refused = {id(r.envelope): r.reason for r in rejected}
        for delivery, envelope in readable:
            reason = refused.get(id(envelope))
            if reason is not None:
                await self.dead_letter(delivery.body, reason)
        await last.ack(multiple=True)
        self.batches += 1

    async def _handle_until_stored(self, envelopes: list[Envelope[Message]]) -> list[Rejected]:
        pause = min(0.5, self.max_pause)
        while True:
            try:
                rejected = await self.handle(envelopes)
            except STORE_UNAVAILABLE as exc:
                self.failures += 1
                log.warning("event store unavailable, batch kept unacknowledged", error=repr(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.max_pause)
                continue
            return rejected


async def until_stored(action: Callable[[], Awaitable[None]], max_pause: float = 30.0) -> None:
    """Run ``action`` until the store takes it, pausing longer after each unavailability."""
    pause = 0.5
    while True:
        try:
            await action()
        except STORE_UNAVAILABLE as exc:
            log.warning("event store unavailable, message kept unacknowledged", error=repr(exc))
            await asyncio.sleep(pause)
            pause = min(pause * 2, max_pause)
            continue
        return
