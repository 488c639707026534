"""Batches of broker messages, acknowledged only after their batch is committed.

Messages are collected until ``size`` are held or ``seconds`` have passed since the first, then
handed to the ledger together. A message that cannot be read goes to the dead-letter queue with
the reason at once; one the ledger refuses goes there after its batch. When the store cannot be
reached the batch is kept and retried with a growing pause: its messages stay unacknowledged
(RabbitMQ keeps them) and nothing else is consumed meanwhile.
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
    """One delivered message (FastStream's ``RabbitMessage`` is one)."""

    @property
    def body(self) -> bytes: ...

    async def ack(self, multiple: bool = False) -> None: ...

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None: ...


BatchHandler = Callable[[Sequence[Envelope[Message]]], Awaitable[list[Rejected]]]
DeadLetter = Callable[[bytes, str], Awaitable[None]]


class Batcher:
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
        self.pending: list[tuple[Delivery, Envelope[Message]]] = []
        self.first_at = 0.0
        self.lock = asyncio.Lock()
        self.failures = 0

    async def add(self, delivery: Delivery) -> None:
        try:
            envelope = open_envelope(delivery.body)
        except EnvelopeError as exc:
            await self.dead_letter(delivery.body, str(exc))
            await delivery.ack()
            return
        if not self.pending:
            self.first_at = time.monotonic()
        self.pending.append((delivery, envelope))
        if len(self.pending) >= self.size:
            await self.flush()

    async def flush_due(self, now: float | None = None) -> None:
        """Flush a partial batch that has waited ``seconds``; the timer loop calls this."""
        now = time.monotonic() if now is None else now
        if self.pending and now - self.first_at >= self.seconds:
            await self.flush()

    async def run_timer(self) -> None:
        while True:
            await asyncio.sleep(self.seconds / 2)
            await self.flush_due()

    async def flush(self) -> None:
        async with self.lock:
            batch, self.pending = self.pending, []
            if not batch:
                return
            try:
                rejected = await self._handle_until_stored([e for _, e in batch])
            except Exception:
                log.exception("batch failed, its messages go back to the queue")
                for delivery, _ in batch:
                    await delivery.nack(requeue=True)
                return
            refused = {id(r.envelope): r.reason for r in rejected}
            for delivery, envelope in batch:
                reason = refused.get(id(envelope))
                if reason is not None:
                    await self.dead_letter(delivery.body, reason)
                await delivery.ack()

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
