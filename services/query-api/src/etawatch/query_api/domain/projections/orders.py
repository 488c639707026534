"""Orders with their lines: each line's current supplier state, its history since the order was
placed, how many days it slipped, and the notifications the customer was sent.

An order is one row: the columns the API filters on, and a document with its lines, each line's
history and the order's notifications. A line of an open order does not copy its item's state:
the projection keeps each item's current state once (``qa_order_items``), with the open orders
holding it, and the API joins the two when it answers (``order_document``). An item's change
therefore rewrites the item's row and the row of each open order holding it (its lines'
``delay_days``, its ``changed_at`` and largest delay) - never a copy of the state per line.
When an order closes, its lines keep the state they closed with, in the order's document.

The projection keeps its own copy of every item's state, so it can be rebuilt on its own and a
line starts from what the supplier said at the moment it was ordered.
"""

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

import orjson

from etawatch.contracts.ids import order_id
from etawatch.query_api.domain.facts import (
    ITEM_FACTS,
    CustomerWasNotified,
    Fact,
    ItemBaselined,
    ItemCameBack,
    ItemChanged,
    ItemWentMissing,
    LineChanged,
    LineFact,
    NotificationWasRefused,
    OrderEnded,
    OrderLineAdded,
    OrderLineRemoved,
    OrderOpened,
)
from etawatch.query_api.domain.projections.catalog import next_item_state
from etawatch.query_api.domain.rows import Key, Row, Rows, Table

ORDERS = Table(
    "qa_order_docs",
    key=("shop_order_id",),
    columns=("customer_id", "status", "placed_at", "changed_at", "changed_seq", "max_delay_days"),
    ints=frozenset({"changed_seq", "max_delay_days"}),
    indexes=(("customer_id",), ("status",), ("changed_at",)),
)
"""``doc``: ``customer_name``, ``locale``, ``closed_at``, ``lines`` and ``notifications``. A
line holds ``line_no``, ``supplier``, ``sku``, ``name``, ``quantity``, ``eta_at_order``,
``delay_days`` (kept as its item changes, for the order's largest delay) and ``history``; once the
order is closed, also ``state``: what its item's state was then."""
ITEMS = Table("qa_order_items", key=("supplier", "sku"), columns=("state",))
"""``state``: the item's current state (JSON text, what the API joins to open lines); ``doc``:
the open orders holding the item, as an object of shop order ids (an ordered set)."""

OPEN = "open"

ItemFact = ItemBaselined | ItemChanged | ItemWentMissing | ItemCameBack
_ORDER_FACTS = (
    OrderEnded,
    OrderLineAdded,
    OrderLineRemoved,
    LineChanged,
    CustomerWasNotified,
    NotificationWasRefused,
)

LineState = tuple[str | None, str | None, dict[str, Any] | None, bool, str | None, int | None]
"""What a line shows of its item: availability, its raw text, ETA, missing, when it last
changed, and the day number of the ETA's latest date (``None``: no date)."""
_UNSEEN: LineState = (None, None, None, False, None, None)


def _day(eta: dict[str, Any] | None) -> int | None:
    """The day number of an ETA's latest date: delays are differences of these."""
    if not eta:
        return None
    latest = eta.get("latest")
    return _ordinal(latest) if latest else None


@functools.lru_cache(maxsize=4096)
def _ordinal(date: str) -> int:
    """ETAs fall on few dates (ends of months, quarters): each is parsed once."""
    return dt.date.fromisoformat(date).toordinal()


def line_state(state: dict[str, Any] | None) -> LineState:
    if state is None:
        return _UNSEEN
    eta = state["eta"]
    return (
        state["availability"],
        state["availability_raw"],
        eta,
        bool(state["missing"]),
        state["last_changed_at"],
        _day(eta),
    )


def _shown(state: LineState) -> dict[str, Any]:
    """What a line shows of its item's state; a closed order's lines keep it."""
    return {
        "availability": state[0],
        "availability_raw": state[1],
        "eta": state[2],
        "missing": state[3],
        "status_changed_at": state[4],
    }


class OrdersProjection:
    name = "orders"
    tables: tuple[Table, ...] = (ORDERS, ITEMS)
    retired: tuple[str, ...] = ("qa_orders", "qa_order_lines", "qa_order_item_state")
    """The order and each line a row, and the items' state (until 2026-11-29)."""

    def prefetch(self, facts: Sequence[Fact], rows: Rows) -> None:
        _prefetch(facts, rows)

    def apply(self, fact: Fact, rows: Rows) -> None:
        if isinstance(fact, ITEM_FACTS):
            _follow_item(fact, rows)
            return
        if isinstance(fact, OrderOpened):
            _open(fact, rows)
            return
        if not isinstance(fact, _ORDER_FACTS):
            return
        order = rows.get(ORDERS, (fact.shop_order_id,))
        if order is None:
            return
        doc = order["doc"]
        if isinstance(fact, OrderEnded):
            _close(order, fact, rows)
        elif isinstance(fact, OrderLineAdded):
            _add_line(order, fact.line, rows)
        elif isinstance(fact, OrderLineRemoved):
            key = (fact.supplier, fact.sku)
            doc["lines"] = [x for x in doc["lines"] if (x["supplier"], x["sku"]) != key]
            _let_go(order, rows, [key])
        elif isinstance(fact, LineChanged):
            for line in doc["lines"]:
                if line["supplier"] == fact.supplier and line["sku"] == fact.sku:
                    line["history"].append(line_change(fact))
        else:
            doc["notifications"].append(notification(fact))
        _touch(order, fact, rows)


def _prefetch(facts: Sequence[Fact], rows: Rows) -> None:
    """The items the facts name; then the orders they name or that hold a changed item; then
    the items of the orders they close."""
    orders: list[Key] = []
    items: list[Key] = []
    changed: list[Key] = []
    closing: list[str] = []
    for fact in facts:
        if isinstance(fact, ITEM_FACTS):
            changed.append((fact.supplier, fact.sku))
        elif isinstance(fact, OrderOpened):
            orders.append((fact.shop_order_id,))
            items.extend((line.supplier, line.sku) for line in fact.lines)
        elif isinstance(fact, _ORDER_FACTS):
            orders.append((fact.shop_order_id,))
            if isinstance(fact, OrderLineAdded):
                items.append((fact.line.supplier, fact.line.sku))
            elif isinstance(fact, OrderLineRemoved):
                items.append((fact.supplier, fact.sku))
            elif isinstance(fact, OrderEnded):
                closing.append(fact.shop_order_id)
    rows.prefetch(ITEMS, [*items, *changed])
    for key in changed:
        item = rows.get(ITEMS, key)
        if item is not None:
            orders.extend((shop_order_id,) for shop_order_id in item["doc"])
    rows.prefetch(ORDERS, orders)
    items = []
    for shop_order_id in closing:
        order = rows.get(ORDERS, (shop_order_id,))
        if order is not None:
            items.extend((line["supplier"], line["sku"]) for line in order["doc"]["lines"])
    rows.prefetch(ITEMS, items)


def item_line_state(item: Row | None) -> LineState:
    """The line state of an item's row, parsed once and kept on the row (not stored: the store
    writes only the table's columns and ``doc``)."""
    if item is None:
        return _UNSEEN
    state: LineState | None = item.get("line")
    if state is None:
        state = item["line"] = line_state(orjson.loads(item["state"]) if item["state"] else None)
    return state


def _max_delay(lines: list[dict[str, Any]]) -> int | None:
    known = [delay for line in lines if (delay := line["delay_days"]) is not None]
    return max(known) if known else None


def _touch(order: Row, fact: Fact, rows: Rows) -> None:
    order["changed_at"] = fact.at
    order["changed_seq"] = fact.seq
    order["max_delay_days"] = _max_delay(order["doc"]["lines"])
    rows.put(ORDERS, order)


def _hold(rows: Rows, shop_order_id: str, supplier: str, sku: str) -> LineState:
    """Count the order among the item's holders; the item's line state."""
    key = (supplier, sku)
    item = rows.get(ITEMS, key)
    if item is None:
        item = {"supplier": supplier, "sku": sku, "state": None, "doc": {}}
    holders: dict[str, int] = item["doc"]
    if shop_order_id not in holders:
        holders[shop_order_id] = 1
        rows.put(ITEMS, item)
    return item_line_state(item)


def _let_go(order: Row, rows: Rows, keys: list[tuple[str, str]]) -> None:
    shop_order_id = order["shop_order_id"]
    for key in keys:
        item = rows.get(ITEMS, key)
        if item is not None and item["doc"].pop(shop_order_id, None) is not None:
            rows.put(ITEMS, item)


def _new_line(number: int, line: LineFact, state: LineState) -> dict[str, Any]:
    dated = state[5] is not None
    return {
        "line_no": number,
        "supplier": line.supplier,
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "eta_at_order": state[2] if dated else None,
        "delay_days": 0 if dated else None,
        "history": [],
    }


def _open(fact: OrderOpened, rows: Rows) -> None:
    shop_order_id = fact.shop_order_id
    if rows.get(ORDERS, (shop_order_id,)) is not None:
        return  # the same order again: the first one stands
    lines = [
        _new_line(number, line, _hold(rows, shop_order_id, line.supplier, line.sku))
        for number, line in enumerate(fact.lines, start=1)
    ]
    rows.put(
        ORDERS,
        {
            "shop_order_id": shop_order_id,
            "customer_id": fact.customer_id,
            "status": OPEN,
            "placed_at": fact.placed_at,
            "changed_at": fact.at,
            "changed_seq": fact.seq,
            "max_delay_days": _max_delay(lines),
            "doc": {
                "customer_name": fact.customer_name,
                "locale": fact.locale,
                "closed_at": None,
                "lines": lines,
                "notifications": [],
            },
        },
    )


def _add_line(order: Row, line: LineFact, rows: Rows) -> None:
    lines = order["doc"]["lines"]
    number = max((x["line_no"] for x in lines), default=0) + 1
    if order["status"] == OPEN:
        state = _hold(rows, order["shop_order_id"], line.supplier, line.sku)
        lines.append(_new_line(number, line, state))
        return
    state = item_line_state(rows.get(ITEMS, (line.supplier, line.sku)))
    new = _new_line(number, line, state)
    new["state"] = _shown(state)  # a line added to a closed order is closed at once
    lines.append(new)


def _close(order: Row, fact: OrderEnded, rows: Rows) -> None:
    was_open = order["status"] == OPEN
    order["status"] = fact.reason
    order["doc"]["closed_at"] = fact.closed_at
    if not was_open:
        return
    held = {}
    for line in order["doc"]["lines"]:
        key = (line["supplier"], line["sku"])
        line["state"] = _shown(item_line_state(rows.get(ITEMS, key)))
        held[key] = True
    _let_go(order, rows, list(held))


def _follow_item(fact: ItemFact, rows: Rows) -> None:
    key = (fact.supplier, fact.sku)
    item = rows.get(ITEMS, key)
    current = orjson.loads(item["state"]) if item is not None and item["state"] else None
    _kind, state = next_item_state(fact, current)
    holders: dict[str, int] = item["doc"] if item is not None else {}
    item = {
        "supplier": fact.supplier,
        "sku": fact.sku,
        "state": orjson.dumps(state).decode(),
        "doc": holders,
        "line": line_state(state),
    }
    rows.put(ITEMS, item)
    if not holders:
        return
    at, seq, eta, day = fact.at, fact.seq, state["eta"], item["line"][5]
    supplier, sku = key
    for shop_order_id in holders:
        order = rows.get(ORDERS, (shop_order_id,))
        if order is None:
            continue
        lines = order["doc"]["lines"]
        for line in lines:
            if line["sku"] != sku or line["supplier"] != supplier:
                continue
            if day is None:
                line["delay_days"] = None
            elif line["eta_at_order"] is None:  # its first dated ETA since the order
                line["eta_at_order"] = eta
                line["delay_days"] = 0
            else:
                line["delay_days"] = day - cast(int, _day(line["eta_at_order"]))
        order["changed_at"] = at
        order["changed_seq"] = seq
        order["max_delay_days"] = _max_delay(lines)
        rows.put(ORDERS, order)


def line_change(fact: LineChanged) -> dict[str, Any]:
    return {
        "change_id": fact.change_id,
        "at": fact.at,
        "observed_at": fact.observed_at,
        "change_kind": fact.change_kind,
        "shift_days": fact.shift_days,
        "previous_availability": fact.previous_availability,
        "availability": fact.availability,
        "previous_eta": fact.previous_eta,
        "eta": fact.eta,
    }


def notification(fact: CustomerWasNotified | NotificationWasRefused) -> dict[str, Any]:
    if isinstance(fact, CustomerWasNotified):
        return {
            "notification_id": fact.notification_id,
            "outcome": "sent",
            "channel": fact.channel,
            "subject": fact.subject,
            "at": fact.sent_at,
            "reason": None,
            "change_ids": list(fact.change_ids),
        }
    return {
        "notification_id": fact.notification_id,
        "outcome": "failed",
        "channel": "email",
        "subject": None,
        "at": fact.failed_at,
        "reason": f"{fact.reason}: {fact.detail}",
        "change_ids": list(fact.change_ids),
    }


ORDER_COLUMNS = "shop_order_id, customer_id, status, placed_at, changed_at, max_delay_days, doc"
"""What ``order_document`` reads of an order's row."""

OrderRow = tuple[str, str, str, str, str, int | None, dict[str, Any]]
"""An order's row as ``ORDER_COLUMNS`` reads it, ``doc`` parsed."""


def order_items(found: OrderRow) -> list[tuple[str, str]]:
    """The items whose current state the order's document shows (none once it is closed)."""
    if found[2] != OPEN:
        return []
    return sorted({(line["supplier"], line["sku"]) for line in found[6]["lines"]})


def order_document(found: OrderRow, states: Mapping[tuple[str, str], LineState]) -> dict[str, Any]:
    """The API's order from its row and the line state of each of its items
    (``item_line_state``; an item not given is one never seen)."""
    shop_order_id, customer_id, status, placed_at, changed_at, max_delay_days, doc = found
    lines = []
    for line in doc["lines"]:
        shown = line.get("state")
        if shown is None:
            shown = _shown(states.get((line["supplier"], line["sku"]), _UNSEEN))
        lines.append(
            {
                "line_no": line["line_no"],
                "supplier": line["supplier"],
                "sku": line["sku"],
                "name": line["name"],
                "quantity": line["quantity"],
                "availability": shown["availability"],
                "availability_raw": shown["availability_raw"],
                "eta": shown["eta"],
                "missing": shown["missing"],
                "eta_at_order": line["eta_at_order"],
                "status_changed_at": shown["status_changed_at"],
                "delay_days": line["delay_days"],
                "history": line["history"],
            }
        )
    return {
        "shop_order_id": shop_order_id,
        "order_id": str(order_id(shop_order_id)),
        "customer_id": customer_id,
        "customer_name": doc["customer_name"],
        "locale": doc["locale"],
        "status": status,
        "placed_at": placed_at,
        "closed_at": doc["closed_at"],
        "changed_at": changed_at,
        "max_delay_days": max_delay_days,
        "lines": lines,
        "notifications": doc["notifications"],
    }


def order_from_rows(rows: Rows, shop_order_id: str) -> dict[str, Any] | None:
    """``order_document`` from rows in memory (answers ``as_of`` a moment, tests)."""
    order = rows.get(ORDERS, (shop_order_id,))
    if order is None:
        return None
    found: OrderRow = (
        order["shop_order_id"],
        order["customer_id"],
        order["status"],
        order["placed_at"],
        order["changed_at"],
        order["max_delay_days"],
        order["doc"],
    )
    states = {key: item_line_state(rows.get(ITEMS, key)) for key in order_items(found)}
    return order_document(found, states)
