"""State as it was known at a moment, folded from the ledger's events: for audits.

The same projections that build the views are applied, in memory, to the events of the order
(or item) and of the items on its lines that the ledger had recorded by then; the order is read
back as the API assembles it from the views.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import orjson

from etawatch.query_api.domain.facts import Fact, OrderLineAdded, OrderOpened
from etawatch.query_api.domain.projections.catalog import ITEM_HISTORY, ITEMS, CatalogProjection
from etawatch.query_api.domain.projections.orders import OrdersProjection, order_from_rows
from etawatch.query_api.domain.rows import MemoryRows, sorted_rows


class History(Protocol):
    def order_facts(self, shop_order_id: str, until: dt.datetime) -> Sequence[Fact]: ...

    def item_facts(self, items: Iterable[tuple[str, str]], until: dt.datetime) -> Sequence[Fact]:
        """The facts of these items up to ``until``, in the order the ledger recorded them."""
        ...


def order_as_of(history: History, shop_order_id: str, moment: dt.datetime) -> bytes | None:
    """The order's document (JSON) as of ``moment``."""
    order = history.order_facts(shop_order_id, moment)
    if not order:
        return None
    items = {
        (line.supplier, line.sku)
        for fact in order
        for line in (
            fact.lines
            if isinstance(fact, OrderOpened)
            else (fact.line,)
            if isinstance(fact, OrderLineAdded)
            else ()
        )
    }
    facts = sorted([*order, *history.item_facts(sorted(items), moment)], key=lambda f: f.at)
    rows = MemoryRows()
    projection = OrdersProjection()
    for fact in facts:
        projection.apply(fact, rows)
    found = order_from_rows(rows, shop_order_id)
    return None if found is None else orjson.dumps(found)


def item_as_of(
    history: History, supplier: str, sku: str, moment: dt.datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The item's document and its history as of ``moment``."""
    rows = MemoryRows()
    projection = CatalogProjection()
    for fact in history.item_facts([(supplier, sku)], moment):
        projection.apply(fact, rows)
    row = rows.get(ITEMS, (supplier, sku))
    if row is None:
        return None
    return row["doc"], [r["doc"] for r in sorted_rows(ITEM_HISTORY, rows.rows(ITEM_HISTORY))]
