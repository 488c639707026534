"""Sending what is queued and publishing what became of it.

Each message is claimed (leased) before it is sent and recorded right after the server's answer;
a temporary failure waits for a later flush with a doubling backoff, a permanent one is final.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from etawatch.contracts.messages import NotificationFailureReason
from etawatch.contracts.topology import NOTIFICATIONS_EXCHANGE
from etawatch.notifier.application.outcomes import outcome_envelope
from etawatch.notifier.application.ports import (
    DeliveryError,
    MailTransport,
    NotificationKind,
    NotifierStore,
    Outgoing,
)
from etawatch.notifier.metrics import NotifierMetrics
from etawatch.runtime.bus import MessageBus
from etawatch.runtime.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    operator_email: str | None = None
    batch_size: int = 500
    lease: dt.timedelta = dt.timedelta(minutes=5)
    retry_backoff: dt.timedelta = dt.timedelta(minutes=1)
    retry_backoff_max: dt.timedelta = dt.timedelta(hours=1)
    give_up_after: dt.timedelta = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one ``flush_due`` did with one notification."""

    notification_id: str
    kind: NotificationKind
    outcome: Literal["sent", "failed", "retry"]
    recipient: str
    subject: str
    message_id: str
    change_ids: tuple[str, ...]
    detail: str | None = None


async def send_due(
    store: NotifierStore,
    transport: MailTransport,
    metrics: NotifierMetrics,
    options: DeliveryOptions,
    now: dt.datetime,
) -> list[Delivery]:
    """Send every queued message that is due, over one session; record each outcome."""
    claimed = await store.claim_sendable(now, now + options.lease, options.batch_size)
    deliveries: list[Delivery] = []
    if not claimed:
        return deliveries
    async with transport.session() as session:
        for position, out in enumerate(claimed):
            try:
                await session.send(out.raw, out.sender, [out.recipient])
            except DeliveryError as exc:
                # A server that cannot be reached at all fails the rest of the batch alike.
                failing = claimed[position:] if exc.connection_lost else [out]
                for item in failing:
                    deliveries.append(
                        await _not_delivered(store, metrics, options, out=item, exc=exc, now=now)
                    )
                if exc.connection_lost:
                    break
                continue
            await store.mark_sent(out.notification_id, now)
            metrics.sent.labels(out.kind.value).inc()
            metrics.observe_delay(now - out.queued_at)
            log.info(
                "notification sent",
                notification_id=out.notification_id,
                kind=out.kind.value,
                message_id=out.message_id,
            )
            deliveries.append(_delivery(out, "sent"))
    return deliveries


async def _not_delivered(
    store: NotifierStore,
    metrics: NotifierMetrics,
    options: DeliveryOptions,
    *,
    out: Outgoing,
    exc: DeliveryError,
    now: dt.datetime,
) -> Delivery:
    if exc.permanent or now - out.created_at >= options.give_up_after:
        reason = exc.reason if exc.permanent else NotificationFailureReason.RETRIES_EXHAUSTED
        await store.mark_failed(out.notification_id, reason, exc.detail, now)
        metrics.failed.labels(reason.value).inc()
        log.warning(
            "notification failed",
            notification_id=out.notification_id,
            reason=reason.value,
            detail=exc.detail,
        )
        return _delivery(out, "failed", exc.detail)
    backoff = options.retry_backoff * 2 ** max(out.attempts - 1, 0)
    await store.retry_later(
        out.notification_id, now + min(backoff, options.retry_backoff_max), exc.detail
    )
    metrics.retried.inc()
    log.warning("notification postponed", notification_id=out.notification_id, detail=exc.detail)
    return _delivery(out, "retry", exc.detail)


def _delivery(
    out: Outgoing, outcome: Literal["sent", "failed", "retry"], detail: str | None = None
) -> Delivery:
    return Delivery(
        notification_id=out.notification_id,
        kind=out.kind,
        outcome=outcome,
        recipient=out.recipient,
        subject=out.subject,
        message_id=out.message_id,
        change_ids=out.change_ids,
        detail=detail,
    )


async def publish_outcomes(store: NotifierStore, bus: MessageBus, limit: int) -> None:
    """Publish ``CustomerNotified``/``NotificationFailed`` of finished notifications, once each."""
    for out in await store.unpublished(limit):
        envelope, routing_key = outcome_envelope(out)
        await bus.publish(envelope, exchange=NOTIFICATIONS_EXCHANGE, routing_key=routing_key)
        await store.mark_published(out.notification_id)
