"""The messages the ledger receives about every customer notification, with stable ids."""

import uuid

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, wrap
from etawatch.contracts.ids import NAMESPACE
from etawatch.contracts.messages import (
    CustomerNotified,
    NotificationFailed,
    NotificationFailureReason,
)
from etawatch.contracts.topology import RK_CUSTOMER_NOTIFIED, RK_NOTIFICATION_FAILED
from etawatch.notifier.application.ports import Outgoing, SendStatus

SOURCE = "/etawatch/notifier"


def outcome_event_id(notification_id: str, status: SendStatus) -> uuid.UUID:
    """The same outcome of the same notification always carries the same envelope id."""
    return uuid.uuid5(NAMESPACE, f"notification-outcome\x1f{notification_id}\x1f{status.value}")


def outcome_envelope(out: Outgoing) -> tuple[Envelope[Message], str]:
    """``CustomerNotified`` or ``NotificationFailed`` for a finished notification, and its key."""
    if out.shop_order_id is None or out.customer_id is None or out.finished_at is None:
        raise ValueError(f"notification {out.notification_id} is not a finished customer one")
    message: Message
    if out.status is SendStatus.SENT:
        message = CustomerNotified(
            notification_id=uuid.UUID(out.notification_id),
            shop_order_id=out.shop_order_id,
            customer_id=out.customer_id,
            email=out.recipient,
            locale=out.locale or "cs",
            subject=out.subject[:1000],
            message_id=out.message_id,
            sent_at=out.finished_at,
            change_ids=out.change_ids,
        )
        routing_key = RK_CUSTOMER_NOTIFIED
    else:
        message = NotificationFailed(
            notification_id=uuid.UUID(out.notification_id),
            shop_order_id=out.shop_order_id,
            customer_id=out.customer_id,
            reason=out.failure_reason or NotificationFailureReason.PERMANENT_REJECTION,
            detail=(out.detail or "")[:1000],
            failed_at=out.finished_at,
            change_ids=out.change_ids,
        )
        routing_key = RK_NOTIFICATION_FAILED
    envelope: Envelope[Message] = wrap(
        message,
        id=outcome_event_id(out.notification_id, out.status),
        source=SOURCE,
        subject=out.shop_order_id,
        correlation_id=out.notification_id,
        time=out.finished_at,
    )
    return envelope, routing_key
