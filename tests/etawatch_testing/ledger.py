"""Builders for the ledger's tests: observations, scrape runs and order commands in envelopes."""

import asyncio
import datetime as dt
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from etawatch.contracts.availability import Availability
from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, wrap
from etawatch.contracts.eta import parse_eta
from etawatch.contracts.ids import notification_id, observation_id, order_command_id, run_event_id
from etawatch.contracts.messages import (
    CloseReason,
    CustomerNotified,
    FailureReason,
    ItemAvailabilityObserved,
    OrderClosed,
    OrderLine,
    OrderPlaced,
    ScrapeRunCompleted,
    ScrapeRunFailed,
    ScrapeRunStarted,
)
from etawatch.contracts.topology import (
    ORDERS_EXCHANGE,
    RK_ORDER_CLOSED,
    RK_ORDER_PLACED,
    RK_RUN_COMPLETED,
    RK_RUN_FAILED,
    RK_RUN_STARTED,
    SCRAPE_EXCHANGE,
    observed_routing_key,
    partition_of,
)
from etawatch.ledger.application.service import Ledger, LedgerOptions
from etawatch.ledger.application.store import LedgerStore
from etawatch.runtime.bus import MessageBus

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
SUPPLIER = "acme"
SOURCE = "/test"

Seen = tuple[str, Availability] | str
"""What a run shows for a SKU: an ETA text (pre-order) or ``(eta text, availability)``."""


def observed(
    run_id: uuid.UUID,
    sku: str,
    eta: str = "Q2 2027",
    availability: Availability = Availability.PRE_ORDER,
    *,
    at: dt.datetime = NOW,
    supplier: str = SUPPLIER,
    name: str | None = None,
    position: int = 0,
) -> Envelope[Message]:
    message = ItemAvailabilityObserved(
        run_id=run_id,
        supplier=supplier,
        sku=sku,
        name=name or f"Figure {sku}",
        availability=availability,
        availability_raw=availability.value.replace("_", " "),
        eta=parse_eta(eta, at.date()),
        observed_at=at,
        position=position,
    )
    return wrap(message, id=observation_id(run_id, supplier, sku), source=SOURCE)


def started(
    run_id: uuid.UUID, at: dt.datetime = NOW, supplier: str = SUPPLIER
) -> Envelope[Message]:
    message = ScrapeRunStarted(run_id=run_id, supplier=supplier, profile="demo", started_at=at)
    return wrap(message, id=run_event_id(run_id, "started"), source=SOURCE)


def completed(
    run_id: uuid.UUID,
    at: dt.datetime = NOW,
    *,
    items: int = 0,
    pages: int = 1,
    quality: tuple[int, int, int] = (0, 0, 0),
    complete: bool = True,
    supplier: str = SUPPLIER,
) -> Envelope[Message]:
    """``quality``: the unknown availabilities, unreadable ETAs and duplicate SKUs reported."""
    unknown_availability, unreadable_eta, duplicate_skus = quality
    message = ScrapeRunCompleted(
        run_id=run_id,
        supplier=supplier,
        started_at=at,
        finished_at=at + dt.timedelta(minutes=5),
        items_seen=items,
        pages=pages,
        complete=complete,
        incomplete_reason=None if complete else "table much shorter than last time",
        unknown_availability=unknown_availability,
        unreadable_eta=unreadable_eta,
        duplicate_skus=duplicate_skus,
    )
    return wrap(message, id=run_event_id(run_id, "completed"), source=SOURCE)


def failed(
    run_id: uuid.UUID,
    at: dt.datetime = NOW,
    supplier: str = SUPPLIER,
    artifacts: tuple[str, ...] = (),
) -> Envelope[Message]:
    message = ScrapeRunFailed(
        run_id=run_id,
        supplier=supplier,
        started_at=at,
        failed_at=at + dt.timedelta(minutes=1),
        reason=FailureReason.LOGIN_FAILED,
        message="login refused",
        artifacts=artifacts,
    )
    return wrap(message, id=run_event_id(run_id, "failed"), source=SOURCE)


def placed(
    shop_order_id: str,
    skus: Sequence[str] | Mapping[str, int],
    *,
    supplier: str = SUPPLIER,
    at: dt.datetime = NOW,
    customer_id: str | None = None,
) -> Envelope[Message]:
    quantities = dict(skus) if isinstance(skus, Mapping) else dict.fromkeys(skus, 1)
    message = OrderPlaced(
        shop_order_id=shop_order_id,
        placed_at=at,
        customer_id=customer_id or f"cust-{shop_order_id}",
        email=f"{shop_order_id.lower().replace(chr(0), '')}@example.com",  # a NUL: not an address
        customer_name="Jana Nováková",
        locale="cs",
        lines=tuple(
            OrderLine(supplier=supplier, sku=sku, name=f"Figure {sku}", quantity=qty)
            for sku, qty in quantities.items()
        ),
    )
    return wrap(message, id=order_command_id(shop_order_id, "placed"), source=SOURCE)


def closed(shop_order_id: str, at: dt.datetime = NOW) -> Envelope[Message]:
    message = OrderClosed(shop_order_id=shop_order_id, closed_at=at, reason=CloseReason.FULFILLED)
    return wrap(message, id=order_command_id(shop_order_id, "closed"), source=SOURCE)


def notified(shop_order_id: str, change_ids: Sequence[str]) -> Envelope[Message]:
    nid = notification_id(change_ids)
    message = CustomerNotified(
        notification_id=nid,
        shop_order_id=shop_order_id,
        customer_id=f"cust-{shop_order_id}",
        email=f"{shop_order_id.lower()}@example.com",
        locale="cs",
        subject="Změna termínu",
        message_id="<m1@example.com>",
        sent_at=NOW,
        change_ids=tuple(change_ids),
    )
    return wrap(message, id=nid, source=SOURCE)


@dataclass
class RunScript:
    """One scrape run as the partition queues see it: start, its rows, its outcome."""

    rows: Mapping[str, Seen]
    at: dt.datetime = NOW
    outcome: str = "complete"  # or "incomplete", "failed"
    supplier: str = SUPPLIER
    run_id: uuid.UUID = field(default_factory=uuid.uuid4)
    items_seen: int | None = None  # what the scraper reports; by default, the rows' count
    pages: int = 1
    artifacts: tuple[str, ...] = ()  # what a failed run saved
    quality: tuple[int, int, int] = (0, 0, 0)  # unknown availabilities, unreadable ETAs, dup. SKUs

    def for_partition(self, partition: int, partitions: int) -> list[Envelope[Message]]:
        envelopes = [started(self.run_id, self.at, self.supplier)]
        for position, (sku, seen) in enumerate(self.rows.items()):
            if partition_of(self.supplier, sku, partitions) != partition:
                continue
            eta, availability = (seen, Availability.PRE_ORDER) if isinstance(seen, str) else seen
            envelopes.append(
                observed(
                    self.run_id,
                    sku,
                    eta,
                    availability,
                    at=self.at,
                    supplier=self.supplier,
                    position=position,
                )
            )
        if self.outcome == "failed":
            envelopes.append(failed(self.run_id, self.at, self.supplier, self.artifacts))
        else:
            envelopes.append(
                completed(
                    self.run_id,
                    self.at,
                    items=len(self.rows) if self.items_seen is None else self.items_seen,
                    pages=self.pages,
                    quality=self.quality,
                    complete=self.outcome == "complete",
                    supplier=self.supplier,
                )
            )
        return envelopes


# --- a ledger under test -----------------------------------------------------------------------


@dataclass
class Published:
    envelope: Envelope[Any]
    exchange: str
    routing_key: str


class RecordingBus:
    """A ``MessageBus`` that keeps what was published (for unit tests of the relay)."""

    def __init__(self) -> None:
        self.published: list[Published] = []

    async def publish(self, envelope: Envelope[Any], *, exchange: str, routing_key: str) -> None:
        self.published.append(Published(envelope, exchange, routing_key))

    def of_type(self, ce_type_prefix: str) -> list[Published]:
        return [p for p in self.published if p.envelope.type.startswith(ce_type_prefix)]


async def feed(ledger: Ledger, run: RunScript) -> RunScript:
    """Hand a run to every partition of the ledger, the way the partition queues deliver it."""
    partitions = ledger.options.partitions
    for partition in range(partitions):
        rejected = await ledger.handle_batch(run.for_partition(partition, partitions), partition)
        assert rejected == []
    return run


def topics(store: LedgerStore, start: int = 0) -> list[str]:
    """The short topics (``Aggregate.Event``) of every stored event after ``start``."""
    return [
        n.topic.rpartition(":")[2]
        for n in store.recorder.select_notifications(start, 100_000, inclusive_of_start=False)
    ]


def store_as_old_version(
    store: LedgerStore,
    originator_id: uuid.UUID,
    events: Sequence[tuple[type[Any], Mapping[str, Any]]],
    *,
    from_version: int,
    class_version: int = 1,
) -> None:
    """Store events as an older version of their class wrote them: ``state`` only, with
    ``class_version`` as the library writes it (not at all for version 1);
    ``originator_version`` counts up from ``from_version``."""
    encode = store.mapper.transcoder.encode
    written = {} if class_version == 1 else {"class_version": class_version}
    store.recorder.insert_events(
        [
            StoredEvent(
                originator_id=originator_id,
                originator_version=version,
                topic=get_topic(cls),
                state=encode({**state, **written}),
            )
            for version, (cls, state) in enumerate(events, start=from_version)
        ]
    )


def new_ledger(store: LedgerStore, **options: Any) -> Ledger:
    ledger = Ledger(store, LedgerOptions(**options))
    ledger.catch_up()
    return ledger


# --- over RabbitMQ -----------------------------------------------------------------------------


async def publish_run(bus: MessageBus, run: RunScript) -> None:
    """Publish a run the way the scraper does: start, every row, then the outcome."""
    envelopes = run.for_partition(0, 1)  # one partition: every row, in order
    for envelope in envelopes:
        message = envelope.data
        if isinstance(message, ItemAvailabilityObserved):
            key = observed_routing_key(message.supplier, message.sku)
        elif isinstance(message, ScrapeRunStarted):
            key = RK_RUN_STARTED.format(supplier=run.supplier)
        elif isinstance(message, ScrapeRunCompleted):
            key = RK_RUN_COMPLETED.format(supplier=run.supplier)
        else:
            key = RK_RUN_FAILED.format(supplier=run.supplier)
        await bus.publish(envelope, exchange=SCRAPE_EXCHANGE, routing_key=key)


async def publish_command(bus: MessageBus, envelope: Envelope[Message]) -> None:
    key = RK_ORDER_PLACED if isinstance(envelope.data, OrderPlaced) else RK_ORDER_CLOSED
    await bus.publish(envelope, exchange=ORDERS_EXCHANGE, routing_key=key)


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    what: str,
    within: float = 30.0,
) -> None:
    """Poll until ``check`` holds; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.05)


class TcpProxy:
    """A loopback TCP proxy that can be closed and opened again: a database that goes away."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.streams: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.streams):
            writer.transport.abort()
        self.streams.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.streams.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self.streams.discard(writer)
