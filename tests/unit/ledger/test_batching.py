"""Batches of deliveries: taken in order, acknowledged after the commit with one ``multiple``
acknowledgement, poison to the DLQ, kept while the store is away.

The fake channel acknowledges as RabbitMQ does: ``multiple`` covers every outstanding delivery
up to the tag, and acknowledging a tag that is not outstanding is an error (RabbitMQ closes the
channel), so a batch that acknowledged a message twice fails here.
"""

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from etawatch_testing.ledger import observed
from eventsourcing.persistence import OperationalError

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, to_json
from etawatch.ledger.adapters.batching import Batcher
from etawatch.ledger.application.service import Rejected


class FakeChannel:
    def __init__(self) -> None:
        self.outstanding: list[int] = []
        self.acked: list[int] = []
        self.requeued: list[int] = []
        self.next_tag = 1

    def deliver(self, body: bytes) -> "FakeDelivery":
        delivery = FakeDelivery(self, self.next_tag, body)
        self.outstanding.append(self.next_tag)
        self.next_tag += 1
        return delivery

    def settle(self, tag: int, *, multiple: bool, into: list[int]) -> None:
        if tag not in self.outstanding:
            raise AssertionError(f"PRECONDITION_FAILED - unknown delivery tag {tag}")
        settled = [t for t in self.outstanding if t <= tag] if multiple else [tag]
        self.outstanding = [t for t in self.outstanding if t not in settled]
        into.extend(settled)


class FakeDelivery:
    def __init__(self, channel: FakeChannel, tag: int, body: bytes) -> None:
        self.channel = channel
        self.tag = tag
        self.body = body

    async def ack(self, multiple: bool = False) -> None:
        self.channel.settle(self.tag, multiple=multiple, into=self.channel.acked)

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        self.channel.settle(self.tag, multiple=multiple, into=self.channel.requeued)


class Handler:
    def __init__(self, fail_times: int = 0, refuse: str | None = None) -> None:
        self.fail_times = fail_times
        self.refuse = refuse
        self.batches: list[list[str]] = []

    async def __call__(self, envelopes: Sequence[Envelope[Message]]) -> list[Rejected]:
        if self.fail_times:
            self.fail_times -= 1
            raise OperationalError("connection refused")
        self.batches.append([getattr(e.data, "sku", "?") for e in envelopes])
        return [Rejected(e, self.refuse) for e in envelopes[:1]] if self.refuse else []


def fill(batcher: Batcher, channel: FakeChannel, bodies: Sequence[bytes]) -> None:
    for body in bodies:
        batcher.inbox.put_nowait(channel.deliver(body))


def rows(n: int) -> list[bytes]:
    run = uuid.uuid4()
    return [to_json(observed(run, f"S{i}")) for i in range(n)]


class DeadLetters(list[str]):
    async def __call__(self, body: bytes, reason: str) -> None:
        self.append(reason)


async def test_batches_keep_the_delivery_order_and_are_acknowledged_after_the_commit() -> None:
    handler, channel = Handler(), FakeChannel()
    batcher = Batcher(handler, DeadLetters(), size=3, seconds=60)
    fill(batcher, channel, rows(4))
    await batcher.process(await batcher.collect())
    assert handler.batches == [["S0", "S1", "S2"]]
    assert channel.acked == [1, 2, 3]
    assert channel.outstanding == [4]


async def test_a_partial_batch_is_handed_over_once_its_time_is_up() -> None:
    handler, channel = Handler(), FakeChannel()
    batcher = Batcher(handler, DeadLetters(), size=100, seconds=0.05)
    fill(batcher, channel, rows(2))
    batch = await asyncio.wait_for(batcher.collect(), timeout=5)
    await batcher.process(batch)
    assert handler.batches == [["S0", "S1"]]
    assert channel.outstanding == []


async def test_the_run_loop_takes_what_arrives_while_it_waits() -> None:
    handler, channel = Handler(), FakeChannel()
    batcher = Batcher(handler, DeadLetters(), size=2, seconds=0.05)
    task = asyncio.create_task(batcher.run())
    try:
        for body in rows(5):
            batcher.inbox.put_nowait(channel.deliver(body))
            await asyncio.sleep(0)
        for _ in range(200):
            if not channel.outstanding:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [sku for batch in handler.batches for sku in batch] == [f"S{i}" for i in range(5)]
    assert channel.acked == [1, 2, 3, 4, 5]


async def test_unreadable_messages_go_to_the_dlq_with_the_reason_and_the_rest_goes_on() -> None:
    handler, channel, dead = Handler(), FakeChannel(), DeadLetters()
    batcher = Batcher(handler, dead, size=4, seconds=60)
    good = rows(2)
    fill(batcher, channel, [b"{not json", good[0], b'{"type": "etawatch.nothing.v1"}', good[1]])
    await batcher.process(await batcher.collect())
    assert dead[0].startswith("body is not JSON")
    assert "unknown message type" in dead[1]
    assert handler.batches == [["S0", "S1"]]
    assert sorted(channel.acked) == [1, 2, 3, 4]


async def test_a_batch_ending_with_an_unreadable_message_acknowledges_each_tag_once() -> None:
    handler, channel, dead = Handler(), FakeChannel(), DeadLetters()
    batcher = Batcher(handler, dead, size=3, seconds=60)
    fill(batcher, channel, [*rows(2), b"{not json"])
    await batcher.process(await batcher.collect())
    assert sorted(channel.acked) == [1, 2, 3]
    assert len(dead) == 1


async def test_a_refused_message_is_dead_lettered_after_its_batch() -> None:
    handler, channel, dead = Handler(refuse="not for this queue"), FakeChannel(), DeadLetters()
    batcher = Batcher(handler, dead, size=2, seconds=60)
    fill(batcher, channel, rows(2))
    await batcher.process(await batcher.collect())
    assert dead == ["not for this queue"]
    assert channel.acked == [1, 2]


async def test_while_the_store_is_away_the_batch_stays_unacknowledged_then_is_stored() -> None:
    handler, channel = Handler(fail_times=2), FakeChannel()
    batcher = Batcher(handler, DeadLetters(), size=2, seconds=60, max_pause=0.01)
    fill(batcher, channel, rows(2))
    await batcher.process(await batcher.collect())
    assert batcher.failures == 2
    assert handler.batches == [["S0", "S1"]]
    assert channel.acked == [1, 2]
    assert channel.requeued == []


async def test_an_unexpected_failure_puts_the_whole_batch_back() -> None:
    channel = FakeChannel()

    async def broken(envelopes: Sequence[Envelope[Message]]) -> list[Rejected]:
        raise RuntimeError("a bug")

    batcher = Batcher(broken, DeadLetters(), size=3, seconds=60)
    fill(batcher, channel, rows(3))
    await batcher.process(await batcher.collect())
    assert channel.requeued == [1, 2, 3]
    assert channel.acked == []
