"""Order commands from the shop and the notifier's feedback, recorded on the order."""

from etawatch.contracts.base import Message
from etawatch.contracts.ids import order_id
from etawatch.contracts.messages import (
    CustomerNotified,
    NotificationFailed,
    OrderClosed,
    OrderLine,
    OrderPlaced,
)
from etawatch.ledger.application.work import Work
from etawatch.ledger.domain.order import LineDict, Order, line_key


class CommandRefusedError(ValueError):
    """A command that can never be applied (e.g. closing an order never placed)."""


def apply_command(work: Work, message: Message) -> None:
    """Plan what the command changes; the same command twice changes nothing."""
    if isinstance(message, OrderPlaced):
        _place(work, message)
    elif isinstance(message, OrderClosed):
        order = _existing(work, message.shop_order_id, "close")
        if order.is_open:
            order.close(closed_at=message.closed_at, reason=message.reason.value)
    elif isinstance(message, CustomerNotified):
        order = _existing(work, message.shop_order_id, "record a notification on")
        if str(message.notification_id) not in order.notifications:
            order.record_notified(
                notification_id=message.notification_id,
                email=str(message.email),
                locale=message.locale,
                subject=message.subject,
                message_id=message.message_id,
                channel=message.channel,
                sent_at=message.sent_at,
                change_ids=list(message.change_ids),
            )
    elif isinstance(message, NotificationFailed):
        order = _existing(work, message.shop_order_id, "record a failed notification on")
        if f"failed:{message.notification_id}" not in order.notifications:
            order.record_notification_failed(
                notification_id=message.notification_id,
                reason=message.reason.value,
                detail=message.detail,
                failed_at=message.failed_at,
                change_ids=list(message.change_ids),
            )
    else:
        raise CommandRefusedError(f"the ledger's order queue does not take {message.TYPE}")


def _line(line: OrderLine) -> LineDict:
    return {
        "supplier": line.supplier,
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
    }


def _place(work: Work, message: OrderPlaced) -> None:
    lines = [_line(x) for x in message.lines]
    order = work.order(order_id(message.shop_order_id))
    if order is None:
        work.add_order(
            Order(
                shop_order_id=message.shop_order_id,
                placed_at=message.placed_at,
                customer_id=message.customer_id,
                email=str(message.email),
                customer_name=message.customer_name,
                locale=message.locale,
                lines=lines,
            )
        )
        return
    if not order.is_open:
        return  # a placement re-sent after the order was closed changes nothing
    wanted = {line_key(x["supplier"], x["sku"]): x for x in lines}
    for key, line in list(order.lines.items()):
        if key not in wanted or wanted[key] != line:
            order.remove_line(supplier=line["supplier"], sku=line["sku"])
    for key, line in wanted.items():
        if key not in order.lines:
            order.add_line(**line)


def _existing(work: Work, shop_order_id: str, what: str) -> Order:
    order = work.order(order_id(shop_order_id))
    if order is None:
        raise CommandRefusedError(f"cannot {what} order {shop_order_id!r}: it was never placed")
    return order
