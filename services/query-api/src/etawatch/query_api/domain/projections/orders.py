"""Orders with their lines: each line's current supplier state, its history since the order was
placed, how many days it slipped, and the notifications the customer was sent.

The projection keeps its own copy of every item's current state (``qa_order_item_state``), so
it can be rebuilt on its own and a new order starts from what the supplier said at that moment.
"""

from collections.abc import Callable
from typing import Any

from etawatch.contracts.ids import order_id
from etawatch.query_api.domain.facts import (
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
from etawatch.query_api.domain.rows import Rows, Table
from etawatch.query_api.domain.timefmt import iso, latest_date

ORDERS = Table(
    "qa_orders",
    key=("shop_order_id",),
    columns=("customer_id", "status", "placed_at", "changed_at", "changed_seq", "max_delay_days"),
    ints=frozenset({"changed_seq", "max_delay_days"}),
    indexes=(("customer_id",), ("status",), ("changed_at",)),
)
ORDER_ITEMS = Table("qa_order_items", key=("supplier", "sku", "shop_order_id"), doc=False)
ITEM_STATE = Table("qa_order_item_state", key=("supplier", "sku"))

OPEN = "open"

OrderFact = (
    OrderEnded | OrderLineRemoved | LineChanged | CustomerWasNotified | NotificationWasRefused
)


class OrdersProjection:
    name = "orders"
    tables: tuple[Table, ...] = (ORDERS, ORDER_ITEMS, ITEM_STATE)

    def apply(self, fact: Fact, rows: Rows) -> None:
        if isinstance(fact, ItemBaselined | ItemChanged | ItemWentMissing | ItemCameBack):
            self._item(fact, rows)
        elif isinstance(fact, OrderOpened):
            self._opened(fact, rows)
        elif isinstance(fact, OrderEnded):
            self._update(rows, fact, lambda doc: _close(doc, fact))
        elif isinstance(fact, OrderLineAdded):
            self._add_line(fact, rows)
        elif isinstance(fact, OrderLineRemoved):
            self._update(rows, fact, lambda doc: _remove_line(doc, fact))
        elif isinstance(fact, LineChanged):
            self._update(rows, fact, lambda doc: _line_history(doc, fact))
        elif isinstance(fact, CustomerWasNotified | NotificationWasRefused):
            self._update(rows, fact, lambda doc: doc["notifications"].append(notification(fact)))

    def _item(
        self, fact: ItemBaselined | ItemChanged | ItemWentMissing | ItemCameBack, rows: Rows
    ) -> None:
        key = (fact.supplier, fact.sku)
        current = rows.get(ITEM_STATE, key)
        _kind, state = next_item_state(fact, current["doc"] if current else None)
        rows.put(ITEM_STATE, {"supplier": fact.supplier, "sku": fact.sku, "doc": state})
        at = iso(fact.at)
        for _s, _k, shop_order_id in rows.keys_where(
            ORDER_ITEMS, supplier=fact.supplier, sku=fact.sku
        ):
            row = rows.get(ORDERS, (shop_order_id,))
            if row is None or row["doc"]["status"] != OPEN:
                continue
            touched = False
            for line in row["doc"]["lines"]:
                if line["supplier"] == fact.supplier and line["sku"] == fact.sku:
                    _set_line_state(line, state, at)
                    touched = True
            if touched:
                self._put(rows, row["doc"], fact)

    def _opened(self, fact: OrderOpened, rows: Rows) -> None:
        if rows.get(ORDERS, (fact.shop_order_id,)) is not None:
            return  # the same order placed twice is one order
        lines = [
            _new_line(number, line, rows, fact.shop_order_id)
            for number, line in enumerate(fact.lines, start=1)
        ]
        doc = {
            "shop_order_id": fact.shop_order_id,
            "order_id": str(order_id(fact.shop_order_id)),
            "customer_id": fact.customer_id,
            "customer_name": fact.customer_name,
            "locale": fact.locale,
            "status": OPEN,
            "placed_at": iso(fact.placed_at),
            "closed_at": None,
            "changed_at": iso(fact.at),
            "max_delay_days": None,
            "lines": lines,
            "notifications": [],
        }
        self._put(rows, doc, fact)

    def _add_line(self, fact: OrderLineAdded, rows: Rows) -> None:
        row = rows.get(ORDERS, (fact.shop_order_id,))
        if row is None:
            return
        doc = row["doc"]
        number = max((line["line_no"] for line in doc["lines"]), default=0) + 1
        doc["lines"].append(_new_line(number, fact.line, rows, fact.shop_order_id))
        self._put(rows, doc, fact)

    def _update(
        self,
        rows: Rows,
        fact: OrderFact,
        change: Callable[[dict[str, Any]], None],
    ) -> None:
        row = rows.get(ORDERS, (fact.shop_order_id,))
        if row is None:
            return  # the ledger refuses facts about unknown orders; nothing to show
        change(row["doc"])
        self._put(rows, row["doc"], fact)

    @staticmethod
    def _put(rows: Rows, doc: dict[str, Any], fact: Fact) -> None:
        doc["changed_at"] = iso(fact.at)
        delays = [line["delay_days"] for line in doc["lines"] if line["delay_days"] is not None]
        doc["max_delay_days"] = max(delays) if delays else None
        rows.put(
            ORDERS,
            {
                "shop_order_id": doc["shop_order_id"],
                "customer_id": doc["customer_id"],
                "status": doc["status"],
                "placed_at": doc["placed_at"],
                "changed_at": doc["changed_at"],
                "changed_seq": fact.seq,
                "max_delay_days": doc["max_delay_days"],
                "doc": doc,
            },
        )


def _new_line(number: int, line: LineFact, rows: Rows, shop_order_id: str) -> dict[str, Any]:
    doc_line: dict[str, Any] = {
        "line_no": number,
        "supplier": line.supplier,
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "availability": None,
        "availability_raw": None,
        "eta": None,
        "missing": False,
        "eta_at_order": None,
        "status_changed_at": None,
        "delay_days": None,
        "history": [],
    }
    state = rows.get(ITEM_STATE, (line.supplier, line.sku))
    if state is not None:
        _set_line_state(doc_line, state["doc"], state["doc"]["last_changed_at"])
    rows.put(
        ORDER_ITEMS, {"supplier": line.supplier, "sku": line.sku, "shop_order_id": shop_order_id}
    )
    return doc_line


def _remove_line(doc: dict[str, Any], fact: OrderLineRemoved) -> None:
    doc["lines"] = [
        line
        for line in doc["lines"]
        if (line["supplier"], line["sku"]) != (fact.supplier, fact.sku)
    ]


def _line_history(doc: dict[str, Any], fact: LineChanged) -> None:
    for line in doc["lines"]:
        if (line["supplier"], line["sku"]) == (fact.supplier, fact.sku):
            line["history"].append(
                {
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
            )


def _set_line_state(line: dict[str, Any], state: dict[str, Any], changed_at: str) -> None:
    line["availability"] = state["availability"]
    line["availability_raw"] = state["availability_raw"]
    line["eta"] = state["eta"]
    line["missing"] = state["missing"]
    line["status_changed_at"] = changed_at
    if line["eta_at_order"] is None and latest_date(state["eta"]) is not None:
        line["eta_at_order"] = state["eta"]
    first, now = latest_date(line["eta_at_order"]), latest_date(state["eta"])
    line["delay_days"] = (now - first).days if first is not None and now is not None else None


def _close(doc: dict[str, Any], fact: OrderEnded) -> None:
    doc["status"] = fact.reason
    doc["closed_at"] = iso(fact.closed_at)


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
