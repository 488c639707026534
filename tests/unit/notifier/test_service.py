"""The notifier application with a recording transport, an in-memory bus and a fake clock."""

import datetime as dt
import email
import email.policy

import pytest
from etawatch_testing.notifier import (
    NOW,
    PRE,
    FakeClock,
    RecordingTransport,
    Sent,
    change,
    health_alert,
    memory_store,
    notifier,
)

from etawatch.contracts.availability import Availability
from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, wrap
from etawatch.contracts.ids import notification_id
from etawatch.contracts.messages import (
    CloseReason,
    CustomerNotified,
    NotificationFailed,
    NotificationFailureReason,
    OrderClosed,
)
from etawatch.contracts.topology import (
    LEDGER_EXCHANGE,
    NOTIFICATIONS_EXCHANGE,
    NOTIFIER_CHANGES,
    Binding,
    QueueSpec,
)
from etawatch.notifier.application.ports import DeliveryError, SendStatus
from etawatch.notifier.application.service import DeliveryOptions, NotifierService
from etawatch.runtime.bus import InMemoryBus, PoisonMessage

WINDOW = dt.timedelta(minutes=30)
LATER = (PRE, "01/2028")


class Outcomes:
    """Everything the notifier publishes on the notifications exchange."""

    def __init__(self) -> None:
        spec = QueueSpec("test.outcomes", (Binding(NOTIFICATIONS_EXCHANGE, "#"),))
        self.bus = InMemoryBus([spec])
        self.seen: list[Envelope[Message]] = []
        self.bus.consume(spec.name, self._keep)

    async def _keep(self, envelope: Envelope[Message]) -> None:
        self.seen.append(envelope)

    async def collect(self) -> list[Envelope[Message]]:
        await self.bus.drain()
        return self.seen


def subject_of(sent: Sent) -> str:
    return str(email.message_from_bytes(sent.raw, policy=email.policy.default)["Subject"])


def counter(service: NotifierService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_a_change_is_sent_once_after_its_window_and_published() -> None:
    transport, outcomes, clock = RecordingTransport(), Outcomes(), FakeClock()
    service = await notifier(transport=transport, bus=outcomes.bus, clock=clock)
    envelope = change(after=LATER)
    await service.handle(envelope)

    assert await service.flush_due(NOW + WINDOW - dt.timedelta(seconds=1)) == []
    assert transport.sent == []
    [delivery] = await service.flush_due(NOW + WINDOW)
    assert delivery.outcome == "sent"
    [sent] = transport.sent
    assert sent.recipients == ("jana@example.com",)
    assert sent.sender == "objednavky@figurky.example"
    assert "2026-0001" in subject_of(sent)

    [published] = await outcomes.collect()
    notified = published.data
    assert isinstance(notified, CustomerNotified)
    assert notified.change_ids == (envelope.id,)
    assert notified.notification_id == notification_id([envelope.id])
    assert notified.message_id == delivery.message_id
    assert notified.sent_at == NOW + WINDOW
    assert counter(service, "etawatch_notifier_sent_total", kind="customer") == 1
    assert counter(service, "etawatch_notifier_queue_delay_seconds_sum") == WINDOW.total_seconds()

    assert await service.flush_due(NOW + 10 * WINDOW) == []
    assert len(transport.sent) == 1
    assert len(await outcomes.collect()) == 1


async def test_redelivered_and_replayed_changes_send_nothing_more() -> None:
    transport = RecordingTransport()
    service = await notifier(transport=transport)
    envelope = change(after=LATER)
    await service.handle(envelope)
    await service.handle(envelope)  # redelivered inside the window
    await service.flush_due(NOW + WINDOW)
    await service.handle(envelope)  # replayed after it was sent
    await service.flush_due(NOW + 3 * WINDOW)
    assert len(transport.sent) == 1
    assert counter(service, "etawatch_notifier_suppressed_total", reason="duplicate") == 2


async def test_a_change_without_a_previous_value_is_refused_and_counted() -> None:
    transport = RecordingTransport()
    service = await notifier(transport=transport)
    await service.handle(change(before=None))
    assert await service.flush_due(NOW + WINDOW) == []
    assert transport.sent == []
    assert counter(service, "etawatch_notifier_suppressed_total", reason="missing_previous") == 1


async def test_changes_of_one_order_inside_the_window_become_one_digest() -> None:
    transport, clock = RecordingTransport(), FakeClock()
    service = await notifier(transport=transport, clock=clock)
    a = change(sku="A", item_name="Alfa", after=LATER)
    b = change(sku="B", item_name="Beta", after=(Availability.IN_STOCK, "skladem"))
    other = change(order="2026-0002", email="petr@example.com", after=LATER)
    await service.handle(a)
    clock.advance(minutes=20)
    await service.handle(b)
    await service.handle(other)
    deliveries = await service.flush_due(NOW + WINDOW)
    assert [d.change_ids for d in deliveries] == [tuple(sorted((a.id, b.id)))]
    [sent] = transport.sent
    body = sent.raw.decode()
    assert "Alfa" in body
    assert "Beta" in body
    [second] = await service.flush_due(NOW + dt.timedelta(minutes=50))
    assert second.recipient == "petr@example.com"
    assert transport.sessions == 2


async def test_a_reverted_change_is_never_sent() -> None:
    transport, outcomes, clock = RecordingTransport(), Outcomes(), FakeClock()
    service = await notifier(transport=transport, bus=outcomes.bus, clock=clock)
    await service.handle(change(after=LATER))
    clock.advance(minutes=10)
    back = change(before=LATER, after=(PRE, "15. 3. 2027"), observed_at=clock.now())
    await service.handle(back)
    assert await service.flush_due(NOW + WINDOW) == []
    assert transport.sent == []
    assert await outcomes.collect() == []
    assert counter(service, "etawatch_notifier_suppressed_total", reason="flapping") == 1


async def test_changes_of_one_line_arriving_reversed_tell_only_the_newest_state() -> None:
    """The newer change is handled and told first; the older one, late, changes nothing."""
    transport, clock = RecordingTransport(), FakeClock()
    service = await notifier(transport=transport, clock=clock)
    older = change(after=LATER, observed_at=NOW)
    newer = change(
        before=LATER,
        after=(Availability.SOLD_OUT, ""),
        observed_at=NOW + dt.timedelta(minutes=1),
    )
    await service.handle(newer)
    [told] = await service.flush_due(clock.advance(minutes=31))
    assert told.change_ids == (newer.id,)
    await service.handle(older)  # e.g. redelivered after a failure, or read by another replica
    assert await service.flush_due(clock.advance(minutes=31)) == []
    assert len(transport.sent) == 1
    assert counter(service, "etawatch_notifier_suppressed_total", reason="superseded") == 1
    assert await service.store.pending_of(older.data.shop_order_id) == []


async def test_small_slips_are_held_and_told_together_once_they_add_up() -> None:
    transport, clock = RecordingTransport(), FakeClock()
    service = await notifier(transport=transport, clock=clock)
    slip1 = change(after=(PRE, "19. 3. 2027"))
    await service.handle(slip1)
    await service.flush_due(clock.advance(hours=1))
    assert transport.sent == []
    slip2 = change(before=(PRE, "19. 3. 2027"), after=(PRE, "24. 3. 2027"), observed_at=clock.now())
    await service.handle(slip2)
    [delivery] = await service.flush_due(clock.advance(hours=1))
    assert delivery.change_ids == tuple(sorted((slip1.id, slip2.id)))
    body = transport.sent[0].raw.decode()
    assert "15. b=C5=99ezna 2027" in body  # quoted-printable of "15. března 2027"


async def test_temporary_failure_is_retried_later_and_then_sent() -> None:
    transport, clock = RecordingTransport(), FakeClock()
    options = DeliveryOptions(retry_backoff=dt.timedelta(minutes=1))
    service = await notifier(transport=transport, clock=clock, options=options)
    transport.errors.append(DeliveryError("451 try later", permanent=False))
    await service.handle(change(after=LATER))
    [first] = await service.flush_due(NOW + WINDOW)
    assert first.outcome == "retry"
    assert await service.flush_due(NOW + WINDOW + dt.timedelta(seconds=59)) == []
    [second] = await service.flush_due(NOW + WINDOW + dt.timedelta(minutes=1))
    assert second.outcome == "sent"
    assert len(transport.sent) == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            DeliveryError("554 rejected", permanent=True),
            NotificationFailureReason.PERMANENT_REJECTION,
        ),
        (
            DeliveryError(
                "550 no such user", permanent=True, reason=NotificationFailureReason.INVALID_ADDRESS
            ),
            NotificationFailureReason.INVALID_ADDRESS,
        ),
    ],
)
async def test_permanent_failure_ends_as_notification_failed(
    error: DeliveryError, reason: NotificationFailureReason
) -> None:
    transport, outcomes = RecordingTransport(), Outcomes()
    service = await notifier(transport=transport, bus=outcomes.bus)
    transport.errors.append(error)
    envelope = change(after=LATER)
    await service.handle(envelope)
    [delivery] = await service.flush_due(NOW + WINDOW)
    assert delivery.outcome == "failed"
    [published] = await outcomes.collect()
    failed = published.data
    assert isinstance(failed, NotificationFailed)
    assert failed.reason is reason
    assert failed.change_ids == (envelope.id,)
    assert await service.flush_due(NOW + 100 * WINDOW) == []  # never retried
    assert counter(service, "etawatch_notifier_failed_total", reason=reason.value) == 1


async def test_a_message_that_cannot_be_addressed_fails_as_invalid_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    transport, outcomes = RecordingTransport(), Outcomes()
    service = await notifier(transport=transport, bus=outcomes.bus)

    def refuse(*args: object) -> None:
        raise ValueError("invalid arguments; address parts cannot contain CR or LF")

    monkeypatch.setattr(service.composer, "customer_email", refuse)
    await service.handle(change(after=LATER))
    assert await service.flush_due(NOW + WINDOW) == []
    assert transport.sent == []
    [published] = await outcomes.collect()
    assert isinstance(published.data, NotificationFailed)
    assert published.data.reason is NotificationFailureReason.INVALID_ADDRESS
    assert "CR or LF" in published.data.detail


async def test_temporary_failures_give_up_after_the_configured_time() -> None:
    transport, outcomes = RecordingTransport(), Outcomes()
    options = DeliveryOptions(
        retry_backoff=dt.timedelta(minutes=1), give_up_after=dt.timedelta(minutes=10)
    )
    service = await notifier(transport=transport, bus=outcomes.bus, options=options)
    transport.errors.extend(DeliveryError("451", permanent=False) for _ in range(100))
    await service.handle(change(after=LATER))
    moment, outcome = NOW + WINDOW, "retry"
    for _ in range(20):
        deliveries = await service.flush_due(moment)
        if deliveries:
            outcome = deliveries[0].outcome
        if outcome == "failed":
            break
        moment += dt.timedelta(minutes=1)
    assert outcome == "failed"
    [published] = await outcomes.collect()
    assert isinstance(published.data, NotificationFailed)
    assert published.data.reason is NotificationFailureReason.RETRIES_EXHAUSTED


async def test_a_lost_connection_postpones_the_rest_of_the_batch() -> None:
    transport = RecordingTransport()
    service = await notifier(transport=transport)
    transport.errors.append(DeliveryError("refused", permanent=False, connection_lost=True))
    for n in range(3):
        await service.handle(change(order=f"O-{n}", after=LATER))
    deliveries = await service.flush_due(NOW + WINDOW)
    assert [d.outcome for d in deliveries] == ["retry"] * 3
    assert transport.sent == []
    deliveries = await service.flush_due(NOW + WINDOW + dt.timedelta(minutes=1))
    assert [d.outcome for d in deliveries] == ["sent"] * 3


class DiesAfterSending(RecordingTransport):
    """The server accepts the message, then the process dies before the log records it."""

    async def send(self, raw: bytes, sender: str, recipients: tuple[str, ...]) -> None:  # type: ignore[override]
        await super().send(raw, sender, recipients)
        if len(self.sent) == 1:
            raise SystemExit("killed")


async def test_a_crash_after_acceptance_resends_the_same_message_after_the_lease() -> None:
    transport, outcomes = DiesAfterSending(), Outcomes()
    store = await memory_store()
    options = DeliveryOptions(lease=dt.timedelta(minutes=5))
    service = await notifier(transport=transport, bus=outcomes.bus, store=store, options=options)
    envelope = change(after=LATER)
    await service.handle(envelope)
    with pytest.raises(SystemExit):
        await service.flush_due(NOW + WINDOW)
    nid = str(notification_id([envelope.id]))
    record = await store.get(nid)
    assert record is not None
    assert record.status is SendStatus.SENDING

    restarted = await notifier(transport=transport, bus=outcomes.bus, store=store, options=options)
    assert await restarted.flush_due(NOW + WINDOW + dt.timedelta(minutes=4)) == []
    [delivery] = await restarted.flush_due(NOW + WINDOW + dt.timedelta(minutes=5))
    assert delivery.outcome == "sent"
    first, second = transport.sent
    assert first.raw == second.raw  # same Message-ID, same bytes: a recognisable duplicate
    assert len(await outcomes.collect()) == 1


async def test_a_crash_before_publishing_publishes_later_with_the_same_id() -> None:
    store = await memory_store()

    class BrokenBus:
        async def publish(
            self, envelope: Envelope[Message], *, exchange: str, routing_key: str
        ) -> None:
            raise ConnectionError("broker down")

    service = await notifier(store=store, bus=BrokenBus())
    await service.handle(change(after=LATER))
    with pytest.raises(ConnectionError):
        await service.flush_due(NOW + WINDOW)
    outcomes = Outcomes()
    again = await notifier(store=store, bus=outcomes.bus)
    assert await again.flush_due(NOW + 2 * WINDOW) == []
    [published] = await outcomes.collect()
    assert isinstance(published.data, CustomerNotified)


async def test_scrape_health_degraded_emails_the_operator_once() -> None:
    transport, outcomes = RecordingTransport(), Outcomes()
    service = await notifier(transport=transport, bus=outcomes.bus)
    alert = health_alert()
    await service.handle(alert)
    await service.handle(alert)
    [delivery] = await service.flush_due(NOW)
    assert delivery.recipient == "provoz@figurky.example"
    assert len(transport.sent) == 1
    assert "acme" in subject_of(transport.sent[0])
    assert await outcomes.collect() == []  # not a customer notification


async def test_without_an_operator_address_the_alert_is_counted_not_sent() -> None:
    transport = RecordingTransport()
    service = await notifier(transport=transport, options=DeliveryOptions(operator_email=None))
    await service.handle(health_alert())
    assert await service.flush_due(NOW) == []
    assert counter(service, "etawatch_notifier_suppressed_total", reason="no_operator_address") == 1


async def test_a_message_the_notifier_does_not_handle_is_poison() -> None:
    service = await notifier()
    closed = OrderClosed(shop_order_id="X", closed_at=NOW, reason=CloseReason.FULFILLED)
    with pytest.raises(PoisonMessage, match="does not handle"):
        await service.handle(wrap(closed, id="x", source="/test"))


async def test_embedded_mode_wiring_dead_letters_poison_and_keeps_going() -> None:
    transport = RecordingTransport()
    bus = InMemoryBus([NOTIFIER_CHANGES])
    service = await notifier(transport=transport, bus=bus)
    bus.consume(NOTIFIER_CHANGES.name, service.handle)
    closed = OrderClosed(shop_order_id="X", closed_at=NOW, reason=CloseReason.FULFILLED)
    stray = wrap(closed, id="stray", source="/test")
    await bus.publish(stray, exchange=LEDGER_EXCHANGE, routing_key="eta.changed.acme")
    await bus.publish(change(after=LATER), exchange=LEDGER_EXCHANGE, routing_key="eta.changed.acme")
    await bus.drain()
    assert len(await service.flush_due(NOW + WINDOW)) == 1
    [dead] = bus.dead_letters
    assert "does not handle etawatch.order.closed.v1" in dead.reason
