"""A shop order: its lines, what happened to their items, and what the customer was told."""

# ruff: noqa: ARG002, PLR0917 - an @event method's parameters are its event's fields

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from etawatch.contracts.ids import order_id
from etawatch.ledger.domain.values import EtaDict

LineDict = dict[str, Any]
"""An order line as stored: ``{"supplier", "sku", "name", "quantity"}``."""


def line_key(supplier: str, sku: str) -> str:
    return f"{supplier}\x1f{sku}"


class Order(Aggregate):
    """One shop order. Its id is ``ids.order_id(shop_order_id)``."""

    @staticmethod
    def create_id(shop_order_id: str, **_: Any) -> uuid.UUID:
        return order_id(shop_order_id)

    @event("Placed")
    def __init__(
        self,
        shop_order_id: str,
        placed_at: dt.datetime,
        customer_id: str,
        email: str,
        customer_name: str,
        locale: str,
        lines: list[LineDict],
    ) -> None:
        self.shop_order_id = shop_order_id
        self.placed_at = placed_at
        self.customer_id = customer_id
        self.email = email
        self.customer_name = customer_name
        self.locale = locale
        self.lines: dict[str, LineDict] = {line_key(x["supplier"], x["sku"]): x for x in lines}
        self.closed_reason: str | None = None
        self.notifications: list[str] = []

    @property
    def is_open(self) -> bool:
        return self.closed_reason is None

    @event("LineAdded")
    def add_line(self, supplier: str, sku: str, name: str, quantity: int) -> None:
        self.lines[line_key(supplier, sku)] = {
            "supplier": supplier,
            "sku": sku,
            "name": name,
            "quantity": quantity,
        }

    @event("LineRemoved")
    def remove_line(self, supplier: str, sku: str) -> None:
        self.lines.pop(line_key(supplier, sku), None)

    @event("Closed")
    def close(self, closed_at: dt.datetime, reason: str) -> None:
        self.closed_reason = reason

    @event("LineItemChanged")
    def record_item_change(
        self,
        shop_order_id: str,
        customer_id: str,
        email: str,
        customer_name: str,
        locale: str,
        supplier: str,
        sku: str,
        item_name: str,
        quantity: int,
        previous_availability: str | None,
        new_availability: str,
        previous_eta: EtaDict | None,
        new_eta: EtaDict,
        change_kind: str,
        shift_days: int | None,
        observation_id: uuid.UUID,
        run_id: uuid.UUID,
        observed_at: dt.datetime,
    ) -> None:
        """The item of one open line changed; the fields are exactly those of ``ETAChanged``."""

    @event("CustomerNotified")
    def record_notified(
        self,
        notification_id: uuid.UUID,
        email: str,
        locale: str,
        subject: str,
        message_id: str,
        channel: str,
        sent_at: dt.datetime,
        change_ids: list[str],
    ) -> None:
        self.notifications.append(str(notification_id))

    @event("NotificationFailed")
    def record_notification_failed(
        self,
        notification_id: uuid.UUID,
        reason: str,
        detail: str,
        failed_at: dt.datetime,
        change_ids: list[str],
    ) -> None:
        self.notifications.append(f"failed:{notification_id}")


# The event classes the @event decorator made, named for type checkers and readers.
Placed: type[Any] = vars(Order)["Placed"]
LineAdded: type[Any] = vars(Order)["LineAdded"]
LineRemoved: type[Any] = vars(Order)["LineRemoved"]
Closed: type[Any] = vars(Order)["Closed"]
LineItemChanged: type[Any] = vars(Order)["LineItemChanged"]
CustomerNotified: type[Any] = vars(Order)["CustomerNotified"]
NotificationFailed: type[Any] = vars(Order)["NotificationFailed"]
