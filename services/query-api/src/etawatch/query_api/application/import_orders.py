"""A bulk start: orders from a CSV file, all checked before any is sent.

One row per order line; the order's own columns repeat on each of its lines. Every bad row is
reported with its line number and what is wrong, and then nothing is published. Publishing is
idempotent (deterministic command ids), so a run stopped half way is simply run again.
"""

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from etawatch.contracts.messages import OrderLine, OrderPlaced
from etawatch.query_api.application.commands import nul_refusal, place_order
from etawatch.runtime.bus import MessageBus

COLUMNS = (
    "shop_order_id",
    "placed_at",
    "customer_id",
    "email",
    "customer_name",
    "locale",
    "supplier",
    "sku",
    "name",
    "quantity",
)
ORDER_COLUMNS = COLUMNS[:6]


@dataclass
class Parsed:
    orders: list[OrderPlaced] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _summary(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}"
        for e in exc.errors(include_url=False, include_input=False)
    )


def parse_orders(lines: Iterable[str]) -> Parsed:
    result = Parsed()
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(f"line 1: missing columns: {', '.join(missing)}")
        return result
    heads: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    order_lines: dict[str, list[OrderLine]] = {}
    for row in reader:
        number = reader.line_num
        if None in row:
            result.errors.append(f"line {number}: more cells than columns")
            continue
        order_id = (row["shop_order_id"] or "").strip()
        if not order_id:
            result.errors.append(f"line {number}: shop_order_id is empty")
            continue
        head = {c: (row[c] or "").strip() for c in ORDER_COLUMNS}
        if order_id in heads and heads[order_id] != head:
            result.errors.append(
                f"line {number}: order {order_id!r} differs from its line {first_line[order_id]} "
                "in the order's own columns"
            )
            continue
        heads.setdefault(order_id, head)
        first_line.setdefault(order_id, number)
        try:
            line = OrderLine(
                supplier=(row["supplier"] or "").strip(),
                sku=row["sku"] or "",
                name=row["name"] or "",
                quantity=int((row["quantity"] or "").strip()),
            )
        except ValueError as exc:
            reason = (
                _summary(exc)
                if isinstance(exc, ValidationError)
                else "quantity: not a whole number"
            )
            result.errors.append(f"line {number}: {reason}")
            continue
        order_lines.setdefault(order_id, []).append(line)
    for order_id, head in heads.items():
        refused = nul_refusal(order_id, head["customer_id"], order_lines.get(order_id, ()))
        if refused:
            result.errors.append(f"line {first_line[order_id]}: order {order_id!r}: {refused}")
            continue
        try:
            placed_at = dt.datetime.fromisoformat(head["placed_at"])
            result.orders.append(
                OrderPlaced(
                    shop_order_id=order_id,
                    placed_at=placed_at,
                    customer_id=head["customer_id"],
                    email=head["email"],
                    customer_name=head["customer_name"],
                    locale=head["locale"] or "cs",
                    lines=tuple(order_lines.get(order_id, ())),
                )
            )
        except ValidationError as exc:
            result.errors.append(
                f"line {first_line[order_id]}: order {order_id!r}: {_summary(exc)}"
            )
        except ValueError:
            result.errors.append(
                f"line {first_line[order_id]}: order {order_id!r}: "
                "placed_at is not an ISO date-time"
            )
    return result


async def publish_orders(bus: MessageBus, orders: Iterable[OrderPlaced]) -> int:
    sent = 0
    for order in orders:
        await place_order(bus, order)
        sent += 1
    return sent
