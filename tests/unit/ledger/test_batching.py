"""Batches of deliveries: acknowledged after the commit, poison to the DLQ, kept while the
store is away."""

import uuid
from collections.abc import Sequence

from etawatch_testing.ledger import observed
from eventsourcing.persistence import OperationalError

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, to_json
from etawatch.ledger.adapters.batching import Batcher
from etawatch.ledger.application.service import Rejected


class FakeDelivery:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.acked = False
        self.nacked = False

    async def ack(self, multiple: bool = False) -> None:
        self.acked = True

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        self.nacked = True


class Handler:
    def __init__(self, fail_times: int = 0, refuse: str | None = None) -> None:
        self.fail_times = fail_times
        self.refuse = refuse
        self.batches: list[int] = []

    async def __call__(self, envelopes: Sequence[Envelope[Message]]) -> list[Rejected]:
        if self.fail_times:
            self.fail_times -= 1
            raise OperationalError("connection refused")
        self.batches.append(len(envelopes))
        return [Rejected(e, self.refuse) for e in envelopes[:1]] if self.refuse else []


def deliveries(n: int) -> list[FakeDelivery]:
    run = uuid.uuid4()
    return [FakeDelivery(to_json(observed(run, f"S{i}"))) for i in range(n)]


async def test_a_full_batch_is_handled_then_acknowledged() -> None:
    handler, dead = Handler(), []

    async def dead_letter(body: bytes, reason: str) -> None:
        dead.append(reason)

    batcher = Batcher(handler, dead_letter, size=3, seconds=60)
    items = deliveries(4)
    for d in items:
        await batcher.add(d)
    assert handler.batches == [3]
    assert [d.acked for d in items] == [True, True, True, False]
    await batcher.flush_due(now=batcher.first_at + 61)
    assert handler.batches == [3, 1]
    assert all(d.acked for d in items)


async def test_unreadable_messages_go_to_the_dlq_with_the_reason_and_the_rest_goes_on() -> None:
    handler, dead = Handler(), []

    async def dead_letter(body: bytes, reason: str) -> None:
        dead.append(reason)

    batcher = Batcher(handler, dead_letter, size=2, seconds=60)
    poison = [FakeDelivery(b"{not json"), FakeDelivery(b'{"type": "etawatch.nothing.v1"}')]
    good = deliveries(2)
    for d in [poison[0], good[0], poison[1], good[1]]:
        await batcher.add(d)
    assert dead[0].startswith("body is not JSON")
    assert "unknown message type" in dead[1]
    assert handler.batches == [2]
    assert all(d.acked for d in [*poison, *good])


async def test_a_refused_message_is_dead_lettered_after_its_batch() -> None:
    handler, dead = Handler(refuse="not for this queue"), []

    async def dead_letter(body: bytes, reason: str) -> None:
        dead.append(reason)

    batcher = Batcher(handler, dead_letter, size=2, seconds=60)
    items = deliveries(2)
    for d in items:
        await batcher.add(d)
    assert dead == ["not for this queue"]
    assert all(d.acked for d in items)


async def test_while_the_store_is_away_the_batch_stays_unacknowledged_then_is_stored() -> None:
    handler = Handler(fail_times=2)

    async def dead_letter(body: bytes, reason: str) -> None:
        raise AssertionError(reason)

    batcher = Batcher(handler, dead_letter, size=2, seconds=60, max_pause=0.01)
    items = deliveries(2)
    for d in items:
        await batcher.add(d)
    assert batcher.failures == 2
    assert handler.batches == [2]
    assert all(d.acked and not d.nacked for d in items)
