import datetime as dt
import uuid
from collections.abc import Sequence

import pytest

from etawatch.contracts.availability import Availability
from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, wrap
from etawatch.contracts.eta import parse_eta
from etawatch.contracts.messages import ItemAvailabilityObserved
from etawatch.contracts.topology import (
    SCRAPE_EXCHANGE,
    Binding,
    QueueSpec,
    observed_routing_key,
)
from etawatch.runtime.bus import InMemoryBus, PoisonMessage, topic_matches

NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)


def envelope(sku: str) -> Envelope[ItemAvailabilityObserved]:
    message = ItemAvailabilityObserved(
        run_id=uuid.uuid4(),
        supplier="acme",
        sku=sku,
        name="Figure",
        availability=Availability.IN_STOCK,
        availability_raw="Skladem",
        eta=parse_eta("", NOW.date()),
        observed_at=NOW,
        position=0,
    )
    return wrap(message, id=sku, source="/test")


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("observed.p1.*", "observed.p1.acme", True),
        ("observed.p1.*", "observed.p2.acme", False),
        ("run.*.*", "run.started.acme", True),
        ("run.#", "run.started.acme", True),
        ("run.#", "run", True),
        ("#", "anything.at.all", True),
        ("eta.changed.*", "eta.changed", False),
        ("order.*", "order.placed", True),
    ],
)
def test_topic_matching(pattern: str, key: str, matches: bool) -> None:
    assert topic_matches(pattern, key) is matches


ALL = QueueSpec("all", (Binding(SCRAPE_EXCHANGE, "observed.#"),), delivery_limit=3)


async def test_routes_and_delivers_in_order() -> None:
    bus = InMemoryBus([ALL])
    seen: list[str] = []

    async def handle(env: Envelope[Message]) -> None:
        assert isinstance(env.data, ItemAvailabilityObserved)
        seen.append(env.data.sku)

    bus.consume("all", handle)
    for sku in ("A", "B", "C"):
        await bus.publish(
            envelope(sku), exchange=SCRAPE_EXCHANGE, routing_key=observed_routing_key("acme", sku)
        )
    await bus.publish(envelope("X"), exchange="elsewhere", routing_key="observed.p0.acme")
    assert await bus.drain() == 3
    assert seen == ["A", "B", "C"]


async def test_failures_are_redelivered_then_dead_lettered() -> None:
    bus = InMemoryBus([ALL])
    attempts = 0

    async def flaky(env: Envelope[Message]) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("database down")

    bus.consume("all", flaky)
    await bus.publish(envelope("A"), exchange=SCRAPE_EXCHANGE, routing_key="observed.p0.acme")
    await bus.drain()
    assert attempts == 3
    assert [d.reason for d in bus.dead_letters] == [
        "delivery limit reached: RuntimeError('database down')"
    ]


async def test_poison_goes_straight_to_dead_letters_and_batches_continue() -> None:
    bus = InMemoryBus([ALL])
    batches: list[list[str]] = []

    async def handle(batch: Sequence[Envelope[Message]]) -> None:
        skus = [e.data.sku for e in batch if isinstance(e.data, ItemAvailabilityObserved)]
        if "BAD" in skus:
            raise PoisonMessage("refused: BAD")
        batches.append(skus)

    bus.consume_batches("all", handle, batch_size=2)
    for sku in ("A", "B", "BAD"):
        await bus.publish(envelope(sku), exchange=SCRAPE_EXCHANGE, routing_key="observed.p0.x")
    bus._queues["all"].items.put_nowait((b"{not json", 0))
    await bus.drain()
    assert batches == [["A", "B"]]
    reasons = sorted(d.reason for d in bus.dead_letters)
    assert reasons[0].startswith("body is not JSON")
    assert reasons[1] == "refused: BAD"
