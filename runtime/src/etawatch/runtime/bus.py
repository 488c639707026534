"""The message bus port, and the in-process bus that stands in for RabbitMQ in embedded mode.

Services publish through ``MessageBus`` and consume with plain handlers that take an
``Envelope``; whether the bytes go through RabbitMQ (``etawatch.runtime.rabbit``) or stay in
this process is chosen in each service's ``bootstrap.py``. The in-process bus routes like a
topic exchange, serialises every message to the same JSON as on the wire, and dead-letters what
a handler refuses, so handlers behave the same on both.
"""

import asyncio
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, EnvelopeError, open_envelope, to_json
from etawatch.contracts.topology import QueueSpec
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

Handler = Callable[[Envelope[Message]], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope[Message]]], Awaitable[None]]


class MessageBus(Protocol):
    async def publish(self, envelope: Envelope[Any], *, exchange: str, routing_key: str) -> None:
        """Publish durably; return only once the broker has taken responsibility for it."""


class PoisonMessage(Exception):  # noqa: N818 - the domain word
    """A message that will never be processed: dead-letter it with this reason, do not retry."""


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` is zero or more words."""
    parts = []
    for word in pattern.split("."):
        if word == "#":
            parts.append(r"(?:[^.]+(?:\.[^.]+)*)?")
        elif word == "*":
            parts.append(r"[^.]+")
        else:
            parts.append(re.escape(word))
    regex = r"\.".join(parts).replace(r"\.(?:[^.]+(?:\.[^.]+)*)?", r"(?:\.[^.]+)*")
    return re.fullmatch(regex, routing_key) is not None


@dataclass
class DeadLetter:
    queue: str
    body: bytes
    reason: str


@dataclass
class _Queue:
    spec: QueueSpec
    items: asyncio.Queue[tuple[bytes, int]] = field(default_factory=asyncio.Queue)
    handler: Handler | None = None
    batch_handler: BatchHandler | None = None
    batch_size: int = 1


class InMemoryBus:
    """Topic routing, durable only as long as the process lives; for embedded mode and tests."""

    def __init__(self, queues: Iterable[QueueSpec] = ()) -> None:
        self._queues: dict[str, _Queue] = {}
        self.dead_letters: list[DeadLetter] = []
        self.published: defaultdict[str, int] = defaultdict(int)
        for spec in queues:
            self.declare(spec)

    def declare(self, spec: QueueSpec) -> None:
        self._queues.setdefault(spec.name, _Queue(spec))

    def consume(self, queue: str, handler: Handler) -> None:
        self._queues[queue].handler = handler

    def consume_batches(self, queue: str, handler: BatchHandler, batch_size: int = 500) -> None:
        self._queues[queue].batch_handler = handler
        self._queues[queue].batch_size = batch_size

    async def publish(self, envelope: Envelope[Any], *, exchange: str, routing_key: str) -> None:
        body = to_json(envelope)
        self.published[envelope.type] += 1
        for q in self._queues.values():
            if any(
                b.exchange == exchange and topic_matches(b.routing_key, routing_key)
                for b in q.spec.bindings
            ):
                q.items.put_nowait((body, 0))

    def pending(self) -> int:
        return sum(q.items.qsize() for q in self._queues.values())

    async def drain(self) -> int:
        """Deliver until every queue with a consumer is empty; return how many were delivered."""
        delivered = 0
        progress = True
        while progress:
            progress = False
            for q in self._queues.values():
                if q.items.empty() or (q.handler is None and q.batch_handler is None):
                    continue
                delivered += await self._deliver(q)
                progress = True
        return delivered

    async def _deliver(self, q: _Queue) -> int:
        batch: list[tuple[bytes, int]] = []
        limit = q.batch_size if q.batch_handler else 1
        while not q.items.empty() and len(batch) < limit:
            batch.append(q.items.get_nowait())
        envelopes: list[tuple[bytes, int, Envelope[Message]]] = []
        for body, attempts in batch:
            try:
                envelopes.append((body, attempts, open_envelope(body)))
            except EnvelopeError as exc:
                self._dead_letter(q, body, str(exc))
        if not envelopes:
            return len(batch)
        try:
            if q.batch_handler is not None:
                await q.batch_handler([e for _, _, e in envelopes])
            elif q.handler is not None:
                await q.handler(envelopes[0][2])
        except PoisonMessage as exc:
            for body, _, _ in envelopes:
                self._dead_letter(q, body, str(exc))
        except Exception as exc:
            log.warning(
                "handler failed, message will be redelivered", queue=q.spec.name, error=repr(exc)
            )
            for body, attempts, _ in envelopes:
                if attempts + 1 >= q.spec.delivery_limit:
                    self._dead_letter(q, body, f"delivery limit reached: {exc!r}")
                else:
                    q.items.put_nowait((body, attempts + 1))
        return len(batch)

    def _dead_letter(self, q: _Queue, body: bytes, reason: str) -> None:
        log.warning("message dead-lettered", queue=q.spec.name, reason=reason)
        self.dead_letters.append(DeadLetter(q.spec.name, body, reason))
