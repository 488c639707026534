"""The ledger's queue reader: one delivery after the other, in order, and reading again when the
broker ends the consumer or reading fails (what was not acknowledged comes again)."""

import asyncio
from collections.abc import AsyncIterator

from faststream.rabbit import RabbitBroker

from etawatch.ledger.application.service import Ledger
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.entrypoints.stream import ConsumerOptions, LedgerConsumer


class Queue:
    """Yields its deliveries in rounds: a round ends normally, or with an error."""

    def __init__(self, rounds: list[tuple[list[str], Exception | None]]) -> None:
        self.rounds = rounds
        self.reads = 0

    def __aiter__(self) -> AsyncIterator[str]:
        return self._round()

    async def _round(self) -> AsyncIterator[str]:
        if self.reads >= len(self.rounds):
            await asyncio.Event().wait()  # nothing more: the consumer just waits
        items, error = self.rounds[self.reads]
        self.reads += 1
        for item in items:
            await asyncio.sleep(0)
            yield item
        if error is not None:
            raise error


def consumer() -> LedgerConsumer:
    store = LedgerStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    options = ConsumerOptions(reread_pause=0.01, relay=False)
    return LedgerConsumer(Ledger(store), RabbitBroker("amqp://127.0.0.1:1/none"), options)


async def test_deliveries_are_taken_in_order_and_the_queue_is_read_again_after_an_end() -> None:
    queue = Queue([(["a", "b"], None), (["c"], ConnectionError("channel closed")), (["d"], None)])
    taken: list[str] = []
    done = asyncio.Event()

    async def take(msg: str) -> None:
        taken.append(msg)
        if msg == "d":
            done.set()

    reader = asyncio.create_task(consumer()._read(queue, take))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        reader.cancel()
    assert taken == ["a", "b", "c", "d"]
    assert queue.reads == 3


async def test_a_slow_take_holds_back_the_next_delivery() -> None:
    queue = Queue([(["first", "second"], None)])
    events: list[str] = []

    async def take(msg: str) -> None:
        events.append(f"start {msg}")
        await asyncio.sleep(0.02)
        events.append(f"end {msg}")

    reader = asyncio.create_task(consumer()._read(queue, take))  # type: ignore[arg-type]
    try:
        for _ in range(100):
            if len(events) == 4:
                break
            await asyncio.sleep(0.01)
    finally:
        reader.cancel()
    assert events == ["start first", "end first", "start second", "end second"]
