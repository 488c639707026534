"""The shop's commands: an order placed or closed, published for the ledger.

Envelope ids come from ``ids.order_command_id``: sending the same order twice publishes the same
command id, and the ledger records it once.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from etawatch.contracts.envelope import wrap
from etawatch.contracts.ids import order_command_id, order_id
from etawatch.contracts.messages import OrderClosed, OrderLine, OrderPlaced
from etawatch.contracts.topology import ORDERS_EXCHANGE, RK_ORDER_CLOSED, RK_ORDER_PLACED
from etawatch.query_api.domain.rows import storable
from etawatch.runtime.bus import MessageBus

SOURCE = "etawatch/query-api"


@dataclass(frozen=True)
class Accepted:
    shop_order_id: str
    order_id: uuid.UUID
    command_id: uuid.UUID


def nul_refusal(shop_order_id: str, customer_id: str, lines: Iterable[OrderLine]) -> str | None:
    """Why an order is refused, if its fields the views keep as keys or text columns hold a
    NUL character (``storable``): the views would leave such an order out, or show its customer
    id otherwise (``facts.unstorable``, ``facts.storable_columns``). Refused where orders come
    in (the API, the CSV import)."""
    named = {"shop_order_id": shop_order_id, "customer_id": customer_id}
    for number, line in enumerate(lines, 1):
        named[f"lines[{number}].sku"] = line.sku
    held = [name for name, text in named.items() if not storable(text)]
    return f"a NUL character is not allowed ({', '.join(held)})" if held else None


async def _send(
    bus: MessageBus,
    message: OrderPlaced | OrderClosed,
    command: str,
    routing_key: str,
    now: dt.datetime | None,
) -> Accepted:
    shop_order_id = message.shop_order_id
    command_id = order_command_id(shop_order_id, command)
    envelope = wrap(
        message,
        id=command_id,
        source=SOURCE,
        subject=shop_order_id,
        correlation_id=str(order_id(shop_order_id)),
        time=now,
    )
    await bus.publish(envelope, exchange=ORDERS_EXCHANGE, routing_key=routing_key)
    return Accepted(shop_order_id, order_id(shop_order_id), command_id)


async def place_order(
    bus: MessageBus, order: OrderPlaced, now: dt.datetime | None = None
) -> Accepted:
    return await _send(bus, order, "placed", RK_ORDER_PLACED, now)


async def close_order(
    bus: MessageBus, close: OrderClosed, now: dt.datetime | None = None
) -> Accepted:
    return await _send(bus, close, "closed", RK_ORDER_CLOSED, now)
