# ruff: noqa: S608 - only fixed table and column names are formatted into the SQL
"""Orders with their lines: each line's current supplier state, its history since the order was
placed, how many days it slipped, and the notifications the customer was sent.

An order is one row and each line another; a line's history and the order's notifications are
appended to them as JSON text. An item's change is two statements whatever the number of orders
holding it: one updates every open line of the item, one the orders those lines belong to. The
API assembles an order from its row and its lines (``ORDER_QUERY``, ``order_json``).

The projection keeps its own copy of every item's current state (``qa_order_item_state``), so
it can be rebuilt on its own and a new line starts from what the supplier said at that moment.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

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
from etawatch.query_api.domain.rows import Params, Rows, Statement, Table
from etawatch.query_api.domain.timefmt import iso

ORDERS = Table(
    "qa_orders",
    key=("shop_order_id",),
    columns=(
        "customer_id",
        "customer_name",
        "locale",
        "status",
        "placed_at",
        "closed_at",
        "changed_at",
        "changed_seq",
        "max_delay_days",
        "notifications",
    ),
    ints=frozenset({"changed_seq", "max_delay_days"}),
    indexes=(("customer_id",), ("status",), ("changed_at",)),
    doc=False,
)
LINES = Table(
    "qa_order_lines",
    key=("shop_order_id", "line_no"),
    columns=(
        "supplier",
        "sku",
        "name",
        "quantity",
        "availability",
        "availability_raw",
        "eta",
        "missing",
        "eta_at_order",
        "eta_at_order_day",
        "status_changed_at",
        "delay_days",
        "open",
        "history",
    ),
    ints=frozenset({"line_no", "quantity", "missing", "eta_at_order_day", "delay_days", "open"}),
    lookups=(("supplier", "sku"),),
    doc=False,
)
"""``eta_at_order_day``: the day number of the latest date of ``eta_at_order``; ``open``: 1
while the order is open (a closed order's lines keep the state they closed with)."""
ITEM_STATE = Table("qa_order_item_state", key=("supplier", "sku"))

OPEN = "open"
_BOTH = (ORDERS, LINES)
_LINE_VALUES = (
    "shop_order_id, line_no, supplier, sku, name, quantity, availability, availability_raw, "
    "eta, missing, eta_at_order, eta_at_order_day, status_changed_at, delay_days, open, history"
)
_MAX_DELAY = (
    "(SELECT MAX(l.delay_days) FROM qa_order_lines l "
    "WHERE l.shop_order_id = qa_orders.shop_order_id)"
)

OPEN_ORDER = Statement(
    "INSERT INTO qa_orders (shop_order_id, customer_id, customer_name, locale, status, "
    "placed_at, closed_at, changed_at, changed_seq, max_delay_days, notifications) "
    "VALUES (?, ?, ?, ?, 'open', ?, NULL, ?, ?, ?, '') ON CONFLICT (shop_order_id) DO NOTHING",
    (ORDERS,),
    batched=True,
)
OPEN_LINE = Statement(
    f"INSERT INTO qa_order_lines ({_LINE_VALUES}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, '') "
    "ON CONFLICT (shop_order_id, line_no) DO NOTHING",
    (LINES,),
    batched=True,
)
ADD_LINE = Statement(
    f"INSERT INTO qa_order_lines ({_LINE_VALUES}) "
    "SELECT o.shop_order_id, (SELECT COALESCE(MAX(l.line_no), 0) + 1 FROM qa_order_lines l "
    "WHERE l.shop_order_id = o.shop_order_id), ?, ?, ?, CAST(? AS BIGINT), ?, ?, ?, "
    "CAST(? AS BIGINT), ?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT), "
    "CASE WHEN o.status = 'open' THEN 1 ELSE 0 END, '' "
    "FROM qa_orders o WHERE o.shop_order_id = ?",
    _BOTH,
)
REMOVE_LINES = Statement(
    "DELETE FROM qa_order_lines WHERE shop_order_id = ? AND supplier = ? AND sku = ?", (LINES,)
)
CLOSE_ORDER = Statement(
    "UPDATE qa_orders SET status = ?, closed_at = ? WHERE shop_order_id = ?", (ORDERS,)
)
CLOSE_LINES = Statement("UPDATE qa_order_lines SET open = 0 WHERE shop_order_id = ?", (LINES,))
ADD_LINE_HISTORY = Statement(
    "UPDATE qa_order_lines SET history = history || "
    "CASE WHEN history = '' THEN '' ELSE ',' END || ? "
    "WHERE shop_order_id = ? AND supplier = ? AND sku = ?",
    (LINES,),
)
ADD_NOTIFICATION = Statement(
    "UPDATE qa_orders SET notifications = notifications || "
    "CASE WHEN notifications = '' THEN '' ELSE ',' END || ? WHERE shop_order_id = ?",
    (ORDERS,),
)
TOUCH_ORDER = Statement(
    f"UPDATE qa_orders SET changed_at = ?, changed_seq = ?, max_delay_days = {_MAX_DELAY} "
    "WHERE shop_order_id = ?",
    _BOTH,
)
FOLLOW_ITEM_LINES = Statement(
    "UPDATE qa_order_lines SET availability = ?, availability_raw = ?, eta = ?, missing = ?, "
    "status_changed_at = ?, "
    "eta_at_order = CASE WHEN eta_at_order IS NULL THEN ? ELSE eta_at_order END, "
    "eta_at_order_day = COALESCE(eta_at_order_day, CAST(? AS BIGINT)), "
    "delay_days = CAST(? AS BIGINT) - COALESCE(eta_at_order_day, CAST(? AS BIGINT)) "
    "WHERE supplier = ? AND sku = ? AND open = 1",
    (LINES,),
)
FOLLOW_ITEM_ORDERS = Statement(
    f"UPDATE qa_orders SET changed_at = ?, changed_seq = ?, max_delay_days = {_MAX_DELAY} "
    "WHERE shop_order_id IN (SELECT l.shop_order_id FROM qa_order_lines l "
    "WHERE l.supplier = ? AND l.sku = ? AND l.open = 1)",
    _BOTH,
)

ORDER_QUERY = (
    "SELECT o.shop_order_id, o.customer_id, o.customer_name, o.locale, o.status, o.placed_at, "
    "o.closed_at, o.changed_at, o.max_delay_days, o.notifications, l.line_no, l.supplier, l.sku, "
    "l.name, l.quantity, l.availability, l.availability_raw, l.eta, l.missing, l.eta_at_order, "
    "l.status_changed_at, l.delay_days, l.history "
    "FROM qa_orders o LEFT JOIN qa_order_lines l ON l.shop_order_id = o.shop_order_id "
    "WHERE o.shop_order_id = ? ORDER BY l.line_no"
)
"""An order and its lines, one row per line (one row with no line for an order without)."""

ItemFact = ItemBaselined | ItemChanged | ItemWentMissing | ItemCameBack
_NOTIFICATIONS = (CustomerWasNotified, NotificationWasRefused)


class OrdersProjection:
    name = "orders"
    tables: tuple[Table, ...] = (ORDERS, LINES, ITEM_STATE)

    def apply(self, fact: Fact, rows: Rows) -> None:
        if isinstance(fact, ITEM_FACTS):
            _follow_item(fact, rows)
            return
        if isinstance(fact, OrderOpened):
            _open(fact, rows)
            return
        if isinstance(fact, OrderEnded):
            rows.run(CLOSE_ORDER, (fact.reason, iso(fact.closed_at), fact.shop_order_id))
            rows.run(CLOSE_LINES, (fact.shop_order_id,))
        elif isinstance(fact, OrderLineAdded):
            line = fact.line
            state = _line_state(rows, line)
            rows.run(
                ADD_LINE,
                (line.supplier, line.sku, line.name, line.quantity, *state, fact.shop_order_id),
            )
        elif isinstance(fact, OrderLineRemoved):
            rows.run(REMOVE_LINES, (fact.shop_order_id, fact.supplier, fact.sku))
        elif isinstance(fact, LineChanged):
            rows.run(
                ADD_LINE_HISTORY,
                (_json(line_change(fact)), fact.shop_order_id, fact.supplier, fact.sku),
            )
        elif isinstance(fact, _NOTIFICATIONS):
            rows.run(ADD_NOTIFICATION, (_json(notification(fact)), fact.shop_order_id))
        else:
            return
        rows.run(TOUCH_ORDER, (iso(fact.at), fact.seq, fact.shop_order_id))


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _day(eta: dict[str, Any] | None) -> int | None:
    """The day number of an ETA's latest date: delays are differences of these."""
    if not eta or not eta.get("latest"):
        return None
    return dt.date.fromisoformat(str(eta["latest"])).toordinal()


def _follow_item(fact: ItemFact, rows: Rows) -> None:
    key = (fact.supplier, fact.sku)
    current = rows.get(ITEM_STATE, key)
    _kind, state = next_item_state(fact, current["doc"] if current else None)
    rows.put(ITEM_STATE, {"supplier": fact.supplier, "sku": fact.sku, "doc": state})
    at, eta, day = iso(fact.at), _json(state["eta"]), _day(state["eta"])
    rows.run(
        FOLLOW_ITEM_LINES,
        (
            state["availability"],
            state["availability_raw"],
            eta,
            int(state["missing"]),
            at,
            eta if day is not None else None,
            day,
            day,
            day,
            *key,
        ),
    )
    rows.run(FOLLOW_ITEM_ORDERS, (at, fact.seq, *key))


_UNSEEN: Params = (None, None, None, 0, None, None, None, None)


def _line_state(rows: Rows, line: LineFact) -> Params:
    """A new line's state columns, ``availability`` to ``delay_days``: the item's now.

    Kept on the item's row (not stored: the store writes only its key and ``doc``) for the
    next line of the same item."""
    found = rows.get(ITEM_STATE, (line.supplier, line.sku))
    if found is None:
        return _UNSEEN
    columns: Params | None = found.get("line")
    if columns is None:
        columns = found["line"] = _state_columns(found["doc"])
    return columns


def _state_columns(state: dict[str, Any]) -> Params:
    eta, day = _json(state["eta"]), _day(state["eta"])
    known = day is not None
    return (
        state["availability"],
        state["availability_raw"],
        eta,
        int(state["missing"]),
        eta if known else None,
        day,
        state["last_changed_at"],
        0 if known else None,
    )


def _open(fact: OrderOpened, rows: Rows) -> None:
    at = iso(fact.at)
    delays: list[int] = []
    for number, line in enumerate(fact.lines, start=1):
        state = _line_state(rows, line)
        if state[-1] is not None:
            delays.append(state[-1])
        head = (fact.shop_order_id, number, line.supplier, line.sku, line.name, line.quantity)
        rows.run(OPEN_LINE, (*head, *state))
    rows.run(
        OPEN_ORDER,
        (
            fact.shop_order_id,
            fact.customer_id,
            fact.customer_name,
            fact.locale,
            iso(fact.placed_at),
            at,
            fact.seq,
            max(delays) if delays else None,
        ),
    )


def line_change(fact: LineChanged) -> dict[str, Any]:
    return {
        "change_id": fact.change_id,
        "at": iso(fact.at),
        "observed_at": iso(fact.observed_at),
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
            "at": iso(fact.sent_at),
            "reason": None,
            "change_ids": list(fact.change_ids),
        }
    return {
        "notification_id": fact.notification_id,
        "outcome": "failed",
        "channel": "email",
        "subject": None,
        "at": iso(fact.failed_at),
        "reason": f"{fact.reason}: {fact.detail}",
        "change_ids": list(fact.change_ids),
    }


def _fragment(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text)


def order_json(found: Sequence[Sequence[Any]]) -> bytes | None:
    """The API's order document from the rows of ``ORDER_QUERY`` (``None``: no such order); the
    JSON stored in the rows goes out as it is."""
    if not found:
        return None
    order = found[0]
    lines = [row[10:] for row in found if row[10] is not None]
    doc = {
        "shop_order_id": order[0],
        "order_id": str(order_id(order[0])),
        "customer_id": order[1],
        "customer_name": order[2],
        "locale": order[3],
        "status": order[4],
        "placed_at": order[5],
        "closed_at": order[6],
        "changed_at": order[7],
        "max_delay_days": order[8],
        "lines": [
            {
                "line_no": line[0],
                "supplier": line[1],
                "sku": line[2],
                "name": line[3],
                "quantity": line[4],
                "availability": line[5],
                "availability_raw": line[6],
                "eta": _fragment(line[7]),
                "missing": bool(line[8]),
                "eta_at_order": _fragment(line[9]),
                "status_changed_at": line[10],
                "delay_days": line[11],
                "history": orjson.Fragment(f"[{line[12]}]"),
            }
            for line in lines
        ],
        "notifications": orjson.Fragment(f"[{order[9]}]"),
    }
    return orjson.dumps(doc)
