"""The notifier end to end through real RabbitMQ and a real SMTP server on loopback."""

import asyncio
import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any, Literal

import pytest
from etawatch_testing.infra import RabbitVhost
from etawatch_testing.notifier import NOW, PRE, change, notifier
from etawatch_testing.smtp import smtp_server
from faststream import TestApp
from faststream.rabbit import RabbitBroker

from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import to_json
from etawatch.contracts.ids import notification_id
from etawatch.contracts.messages import (
    CustomerNotified,
    NotificationFailed,
    NotificationFailureReason,
)
from etawatch.contracts.topology import ERROR_HEADER, NOTIFIER_CHANGES
from etawatch.notifier.adapters.smtp import SmtpConfig, SmtpSession
from etawatch.notifier.adapters.sql.database import SqliteDatabase
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.ports import DeliveryError
from etawatch.notifier.domain.model import PendingChange
from etawatch.notifier.entrypoints.stream import create_app
from etawatch.runtime.rabbit import RabbitBus

from .conftest import PREFETCH, Harness, eventually

pytestmark = pytest.mark.integration

WINDOW = dt.timedelta(minutes=30)
LATER = (PRE, "Q2 2027")


def order_id() -> str:
    return f"2026-{uuid.uuid4().hex[:8]}"


async def test_an_eta_changed_in_gives_one_correct_email_out(harness: Harness) -> None:
    order = order_id()
    envelope = change(order=order, locale="en", customer_name="Jane Doe", after=LATER)
    await harness.publish_envelope(envelope)
    assert await harness.stored(order) == 1

    [delivery] = await harness.service.flush_due(NOW + WINDOW)
    assert delivery.outcome == "sent"
    [received] = harness.smtp.wait_for(1)
    assert received.mail_from == "objednavky@figurky.example"
    assert received.rcpt_tos == ("jana@example.com",)
    message = received.parsed
    assert message["To"].addresses[0].addr_spec == "jana@example.com"
    assert message["To"].addresses[0].display_name == "Jane Doe"
    assert message["Subject"] == f"Figurky.cz: an update on Figurka Geralt 1:6 of order {order}"
    assert message["Message-ID"] == f"<{notification_id([envelope.id])}@figurky.example>"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    for body in (text.get_content(), html.get_content()):
        assert "15 March 2027" in body
        assert "in Q2 2027" in body
        assert order in body
        assert "https://figurky.example/objednavky/" in body

    outcome = await harness.next_outcome()
    assert isinstance(outcome.data, CustomerNotified)
    assert outcome.data.shop_order_id == order
    assert outcome.data.change_ids == (envelope.id,)
    assert outcome.data.message_id == message["Message-ID"]


async def test_the_queue_is_consumed_on_a_channel_of_its_own_with_its_prefetch(
    harness: Harness, vhost: RabbitVhost
) -> None:
    """Declared before the subscriber started, the queue was read on the broker's shared
    default channel with no prefetch limit at all."""

    def consuming() -> list[dict[str, Any]]:
        return [c for c in vhost.consumers() if c["queue_name"] == NOTIFIER_CHANGES.name]

    async def one() -> list[dict[str, Any]]:
        return consuming()

    [consumer] = await eventually(one)
    assert consumer["prefetch_count"] == PREFETCH
    assert consumer["ack_required"] is True


async def test_the_service_application_consumes_with_its_prefetch(
    vhost: RabbitVhost, tmp_path: Path
) -> None:
    """``etawatch-notifier run``'s application declares after its subscriber started."""
    store = SqlNotifierStore(SqliteDatabase(str(tmp_path / "app.db")))
    await store.create_tables()
    broker = RabbitBroker(vhost.url, logger=None)
    service = await notifier(store=store, bus=RabbitBus(broker))
    app = create_app(broker, service, interval=3600, prefetch=PREFETCH + 1)

    async def consuming() -> list[dict[str, Any]]:
        return [
            c
            for c in vhost.consumers()
            if c["queue_name"] == NOTIFIER_CHANGES.name and c["prefetch_count"] == PREFETCH + 1
        ]

    async with TestApp(app):
        assert len(await eventually(consuming)) == 1
    await store.close()


async def test_an_older_change_arriving_after_a_newer_one_was_told_sends_nothing(
    harness: Harness,
) -> None:
    """Changes of one line published newest first (as a redelivery or a second replica may
    hand them over): the customer is told the newest state once, never the older one."""
    order = order_id()
    older = change(order=order, after=LATER, observed_at=NOW)
    newer = change(
        order=order,
        before=LATER,
        after=(Availability.SOLD_OUT, ""),
        observed_at=NOW + dt.timedelta(minutes=1),
    )
    await harness.publish_envelope(newer)
    await harness.stored(order)
    [told] = await harness.service.flush_due(NOW + WINDOW)
    assert told.change_ids == (newer.id,)
    await harness.publish_envelope(older)
    await harness.stored(order)
    assert await harness.service.flush_due(NOW + 2 * WINDOW) == []
    assert await harness.store.pending_of(order) == []
    assert (
        harness.service.metrics.registry.get_sample_value(
            "etawatch_notifier_suppressed_total", {"reason": "superseded"}
        )
        == 1
    )
    harness.smtp.wait_for(1)
    assert len(harness.smtp.messages) == 1


async def test_many_changes_of_one_line_in_any_order_only_ever_move_forward(
    harness: Harness,
) -> None:
    """80 successive changes of one line, published shuffled while flushes run all along: each
    email tells a newer observation than the one before, and the last state is the newest."""
    order = order_id()
    dates = [dt.date(2027, 3, 15) + dt.timedelta(days=7 * i) for i in range(81)]
    states = [(PRE, f"{d.day}. {d.month}. {d.year}") for d in dates]
    changes = [
        change(
            order=order,
            before=states[i],
            after=states[i + 1],
            observed_at=NOW + dt.timedelta(minutes=i),
        )
        for i in range(80)
    ]
    rank = {c.id: i for i, c in enumerate(changes)}
    shuffled = random.Random(7).sample(changes, len(changes))
    told: list[int] = []
    registry = harness.service.metrics.registry

    async def flush_all_along() -> None:
        while True:
            stored = registry.get_sample_value("etawatch_notifier_changes_received_total") or 0
            done = stored == len(changes) and not await harness.store.pending_of(order)
            deliveries = await harness.service.flush_due(NOW + 4 * WINDOW)
            told.extend(max(rank[cid] for cid in d.change_ids) for d in deliveries)
            if done:
                return
            await asyncio.sleep(0.005)

    flusher = asyncio.create_task(flush_all_along())
    for envelope in shuffled:
        await harness.publish_envelope(envelope)
    await asyncio.wait_for(flusher, 60)

    assert told, "nothing was told"
    assert told == sorted(set(told))  # never back to an older observation
    assert told[-1] == 79
    [baseline] = (await harness.store.baselines_of(order)).values()
    assert baseline.as_of == changes[-1].data.observed_at
    assert baseline.state.eta.raw == states[-1][1]


async def test_redelivery_and_replay_send_nothing_more(harness: Harness) -> None:
    order = order_id()
    envelope = change(order=order, after=LATER)
    await harness.publish_envelope(envelope)
    await harness.publish_envelope(envelope)
    assert await harness.stored(order) == 1
    await harness.service.flush_due(NOW + WINDOW)
    harness.smtp.wait_for(1)
    await harness.next_outcome()

    await harness.publish_envelope(envelope)  # replayed after it was told

    async def seen_again() -> float | None:
        value = harness.service.metrics.registry.get_sample_value(
            "etawatch_notifier_suppressed_total", {"reason": "duplicate"}
        )
        return value if value and value >= 2 else None

    await eventually(seen_again)
    assert await harness.service.flush_due(NOW + 4 * WINDOW) == []
    assert len(harness.smtp.messages) == 1


async def test_a_temporary_4xx_is_retried_and_then_accepted(harness: Harness) -> None:
    order = order_id()
    harness.smtp.fail_next(2)
    await harness.publish_envelope(change(order=order, after=LATER))
    await harness.stored(order)
    [delivery] = await harness.service.flush_due(NOW + WINDOW)
    assert delivery.outcome == "sent"
    assert len(harness.smtp.wait_for(1)) == 1
    assert harness.smtp.attempts == 3
    assert isinstance((await harness.next_outcome()).data, CustomerNotified)


async def test_a_permanent_5xx_ends_as_notification_failed(harness: Harness) -> None:
    order = order_id()
    harness.smtp.reject_all("554 5.7.1 Relay access denied")
    envelope = change(order=order, after=LATER)
    await harness.publish_envelope(envelope)
    await harness.stored(order)
    [delivery] = await harness.service.flush_due(NOW + WINDOW)
    assert delivery.outcome == "failed"
    assert harness.smtp.attempts == 1  # never retried
    outcome = await harness.next_outcome()
    assert isinstance(outcome.data, NotificationFailed)
    assert outcome.data.reason is NotificationFailureReason.PERMANENT_REJECTION
    assert "554" in outcome.data.detail
    assert outcome.data.change_ids == (envelope.id,)
    harness.smtp.accept_all()
    assert await harness.service.flush_due(NOW + 48 * WINDOW) == []
    assert harness.smtp.messages == []


async def test_a_refused_recipient_ends_as_invalid_address(harness: Harness) -> None:
    order = order_id()
    harness.smtp.refuse_recipient("nobody@example.com")
    await harness.publish_envelope(change(order=order, email="nobody@example.com", after=LATER))
    await harness.stored(order)
    [delivery] = await harness.service.flush_due(NOW + WINDOW)
    assert delivery.outcome == "failed"
    outcome = await harness.next_outcome()
    assert isinstance(outcome.data, NotificationFailed)
    assert outcome.data.reason is NotificationFailureReason.INVALID_ADDRESS


async def test_smtp_down_then_back_sends_everything_later(harness: Harness) -> None:
    orders = [order_id() for _ in range(3)]
    for order in orders:
        await harness.publish_envelope(change(order=order, after=LATER))
    for order in orders:
        await harness.stored(order)
    harness.smtp.stop()
    deliveries = await harness.service.flush_due(NOW + WINDOW)
    assert [d.outcome for d in deliveries] == ["retry"] * 3
    harness.smtp.start()
    deliveries = await harness.service.flush_due(NOW + WINDOW + dt.timedelta(minutes=1))
    assert [d.outcome for d in deliveries] == ["sent"] * 3
    received = harness.smtp.wait_for(3)
    assert len({m.peer for m in received}) == 1  # one connection for the whole batch
    got = {(await harness.next_outcome()).data.shop_order_id for _ in orders}  # type: ignore[attr-defined]
    assert got == set(orders)


async def test_invalid_messages_go_to_the_dead_letter_queue_with_the_reason(
    harness: Harness,
) -> None:
    await harness.publish(b"{not json")
    dead = await harness.dead_letter()
    assert dead.body == b"{not json"
    assert "body is not JSON" in str(dead.headers[ERROR_HEADER])

    broken = json.loads(to_json(change(order=order_id(), after=LATER)))
    broken["data"]["quantity"] = 0
    await harness.publish(json.dumps(broken).encode())
    dead = await harness.dead_letter()
    assert "quantity" in str(dead.headers[ERROR_HEADER])

    unknown = dict(broken, type="etawatch.order.unheard-of.v1")
    await harness.publish(json.dumps(unknown).encode())
    dead = await harness.dead_letter()
    assert "unknown message type" in str(dead.headers[ERROR_HEADER])

    order = order_id()  # the consumer keeps going
    await harness.publish_envelope(change(order=order, after=LATER))
    assert await harness.stored(order) == 1


async def test_a_change_without_previous_value_is_acked_and_never_sent(harness: Harness) -> None:
    order = order_id()
    await harness.publish_envelope(change(order=order, before=None))

    async def refused() -> float | None:
        return harness.service.metrics.registry.get_sample_value(
            "etawatch_notifier_suppressed_total", {"reason": "missing_previous"}
        )

    assert await eventually(refused) == 1
    assert await harness.service.flush_due(NOW + WINDOW) == []
    assert harness.smtp.messages == []


async def test_an_in_stock_digest_for_two_items_is_one_email(harness: Harness) -> None:
    order = order_id()
    await harness.publish_envelope(change(order=order, sku="A", item_name="Alfa", after=LATER))
    await harness.publish_envelope(
        change(order=order, sku="B", item_name="Beta", after=(Availability.IN_STOCK, "skladem"))
    )
    assert await harness.stored(order, 2) == 2
    await harness.service.flush_due(NOW + WINDOW)
    [received] = harness.smtp.wait_for(1)
    text = received.parsed.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert content.index("Beta") < content.index("Alfa")  # in stock first
    assert "ve 2. čtvrtletí 2027" in content


async def test_login_with_credentials_from_the_url() -> None:
    with smtp_server(login=("shop", "s3cret-pass")) as server:
        session = SmtpSession(SmtpConfig.from_url(server.url, wait_seconds=0.01))
        await session.send(b"Subject: hi\r\n\r\nbody\r\n", "a@figurky.example", ["b@example.com"])
        await session.close()
        assert len(server.wait_for(1)) == 1
        wrong = SmtpSession(
            SmtpConfig.from_url(server.url.replace("s3cret", "wrong"), attempts=1, wait_seconds=0)
        )
        with pytest.raises(DeliveryError) as caught:
            await wrong.send(b"Subject: x\r\n\r\nx\r\n", "a@figurky.example", ["b@example.com"])
        assert not caught.value.permanent  # our credentials, not the message: keep it queued
        assert caught.value.connection_lost
        await wrong.close()


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
async def test_tls_and_login_are_used(tls: Literal["starttls", "implicit"]) -> None:
    with smtp_server(login=("shop", "s3cret-pass"), tls=tls) as server:
        config = SmtpConfig.from_url(
            server.url, ca_file=server.ca_file, require_starttls=tls == "starttls"
        )
        session = SmtpSession(config)
        await session.send(b"Subject: hi\r\n\r\nbody\r\n", "a@figurky.example", ["b@example.com"])
        await session.close()
        assert len(server.wait_for(1)) == 1
        untrusted = SmtpSession(SmtpConfig.from_url(server.url, attempts=1, wait_seconds=0))
        with pytest.raises(DeliveryError) as caught:
            await untrusted.send(b"Subject: x\r\n\r\nx\r\n", "a@figurky.example", ["b@example.com"])
        assert not caught.value.permanent
        await untrusted.close()
        assert len(server.messages) == 1


async def test_a_failure_while_storing_is_redelivered_and_nothing_is_lost(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = harness.store.add_pending
    failures: list[str] = []

    async def flaky(change_: PendingChange, raw: str) -> bool:
        if not failures:
            failures.append(change_.change_id)
            raise OSError("database is locked")
        return await real(change_, raw)

    monkeypatch.setattr(harness.store, "add_pending", flaky)
    order = order_id()
    envelope = change(order=order, after=LATER)
    await harness.publish_envelope(envelope)
    assert await harness.stored(order) == 1
    assert failures == [envelope.id]
    [delivery] = await harness.service.flush_due(NOW + WINDOW)
    assert delivery.outcome == "sent"
