"""The questions the HTTP API asks the views, as SQL. Documents come back as JSON text."""

# ruff: noqa: S608 - only parameter markers and fixed column names are formatted into the SQL

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from etawatch.query_api.adapters.coalesce import Coalescer
from etawatch.query_api.adapters.view_reader import Reader
from etawatch.query_api.domain.projections.orders import (
    ITEMS,
    OPEN,
    ORDER_COLUMNS,
    ORDERS,
    LineState,
    OrderRow,
    line_state,
    order_document,
)
from etawatch.query_api.domain.rows import storable
from etawatch.query_api.domain.timefmt import iso

_PG_DOC = (
    r"CASE WHEN strpos(o.doc, '\u0000') = 0 THEN o.doc "
    r"ELSE replace(replace(o.doc, '\\', '\u005c'), '\u0000', '\ufffd') END"
)
r"""The stored document, as PostgreSQL's JSON functions can read it: they refuse the whole of a
document holding a NUL character (``\u0000``, which a name or a customer's may hold; a key
cannot: a ``TEXT`` column does not take one), so such a document's NULs are read as U+FFFD.
Escaped backslashes are written otherwise first (``\u005c``), so that a backslash followed by
``u0000`` stays as it is; ``replace`` goes left to right, as JSON's escapes are read."""


def order_sql(ph: str, *, many: bool = False) -> str:
    """An order's row (``ORDER_COLUMNS``), and, when it is open, the state of each item its
    lines name, as a JSON array of ``[supplier, sku, state]`` (``state`` the stored text, or
    null), found from the lines of the stored document by the database's JSON functions: one
    statement, so one snapshot of both tables. Parameters: the open status, the order's id
    (``many``: the ids, as an array on PostgreSQL and as a JSON array on SQLite; a row for each
    order found)."""
    if ph == "?":  # SQLite
        keys = (
            "SELECT json_extract(line.value, '$.supplier'), json_extract(line.value, '$.sku') "
            "FROM json_each(o.doc, '$.lines') AS line"
        )
        states = "json_group_array(json_array(i.supplier, i.sku, i.state))"
    else:
        keys = (
            "SELECT line ->> 'supplier', line ->> 'sku' "
            f"FROM jsonb_array_elements(({_PG_DOC})::jsonb -> 'lines') AS line"
        )
        states = "json_agg(json_build_array(i.supplier, i.sku, i.state))::text"
    columns = ", ".join(f"o.{name.strip()}" for name in ORDER_COLUMNS.split(","))
    return (
        f"SELECT {columns}, CASE WHEN o.status = {ph} THEN ("
        f"SELECT {states} FROM {ITEMS.name} AS i WHERE (i.supplier, i.sku) IN ({keys})"
        f") END FROM {ORDERS.name} AS o WHERE o.shop_order_id " + (_ANY[ph] if many else f"= {ph}")
    )


_ANY = {"?": "IN (SELECT value FROM json_each(?))", "%s": "= ANY(%s)"}


@dataclass(frozen=True)
class OrderFilter:
    customer_id: str | None = None
    status: str | None = None
    delayed_more_than_days: int | None = None
    changed_since: dt.datetime | None = None
    after: str | None = None


class ViewQueries:
    """``coalesce``: orders asked for at the same moment are read by one statement, at most
    ``coalesce`` of them out at once (``Coalescer``; on SQLite in a worker thread, not on the
    event loop); 0: each request reads its order itself."""

    def __init__(self, reader: Reader, *, coalesce: int = 0) -> None:
        self.reader = reader
        self.ph = reader.ph
        self._order_sql = order_sql(self.ph)
        self._orders_sql = order_sql(self.ph, many=True)
        self.coalescer: Coalescer[str, tuple[Any, ...]] | None = None
        if coalesce:
            self.coalescer = Coalescer(self._orders_by_id, in_flight=coalesce)

    async def _orders_by_id(self, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        listed = orjson.dumps(ids).decode() if self.ph == "?" else list(ids)
        rows = await self.reader.apart(self._orders_sql, (OPEN, listed))
        return {row[0]: row for row in rows}

    async def order(self, shop_order_id: str) -> bytes | None:
        """The order and the current state of its open lines' items, read by one statement."""
        if not storable(shop_order_id):
            return None
        if self.coalescer is not None:
            found = await self.coalescer.get(shop_order_id)
        else:
            found = await self.reader.one(self._order_sql, (OPEN, shop_order_id))
        if found is None:
            return None
        row: OrderRow = (*found[:6], orjson.loads(found[6]))
        states: dict[tuple[str, str], LineState] = {
            (supplier, sku): line_state(orjson.loads(state) if state else None)
            for supplier, sku, state in (orjson.loads(found[7]) if found[7] else ())
        }
        return orjson.dumps(order_document(row, states))

    async def orders(self, where: OrderFilter, limit: int) -> list[tuple[Any, ...]]:
        """Orders by id after ``where.after``, filtered."""
        if not storable(where.customer_id, where.after):
            return []
        clauses: list[str] = []
        params: list[Any] = []
        ph = self.ph
        if where.customer_id is not None:
            clauses.append(f"customer_id = {ph}")
            params.append(where.customer_id)
        if where.status is not None:
            clauses.append(f"status = {ph}")
            params.append(where.status)
        if where.delayed_more_than_days is not None:
            clauses.append(f"max_delay_days > {ph}")
            params.append(where.delayed_more_than_days)
        if where.changed_since is not None:
            clauses.append(f"changed_at >= {ph}")
            params.append(iso(where.changed_since))
        if where.after is not None:
            clauses.append(f"shop_order_id > {ph}")
            params.append(where.after)
        sql = (
            "SELECT shop_order_id, customer_id, status, placed_at, changed_at, max_delay_days "
            f"FROM {ORDERS.name}"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + f" ORDER BY shop_order_id LIMIT {ph}"
        )
        return await self.reader.all(sql, (*params, limit))

    async def item(self, supplier: str, sku: str) -> str | None:
        if not storable(supplier, sku):
            return None
        row = await self.reader.one(
            f"SELECT doc FROM qa_items WHERE supplier = {self.ph} AND sku = {self.ph}",
            (supplier, sku),
        )
        return row[0] if row else None

    async def item_history(self, supplier: str, sku: str) -> list[str]:
        if not storable(supplier, sku):
            return []
        rows = await self.reader.all(
            f"SELECT doc FROM qa_item_history WHERE supplier = {self.ph} AND sku = {self.ph} "
            "ORDER BY seq",
            (supplier, sku),
        )
        return [r[0] for r in rows]

    async def changes(self, after: int, limit: int, supplier: str | None) -> list[tuple[Any, ...]]:
        if not storable(supplier):
            return []
        ph = self.ph
        if supplier is None:
            sql = f"SELECT seq, doc FROM qa_changes WHERE seq > {ph} ORDER BY seq LIMIT {ph}"
            return await self.reader.all(sql, (after, limit))
        sql = (
            f"SELECT seq, doc FROM qa_changes WHERE seq > {ph} AND supplier = {ph} "
            f"ORDER BY seq LIMIT {ph}"
        )
        return await self.reader.all(sql, (after, supplier, limit))

    async def runs(
        self, before: int | None, limit: int, supplier: str | None
    ) -> list[tuple[Any, ...]]:
        if not storable(supplier):
            return []
        ph = self.ph
        clauses: list[str] = []
        params: list[Any] = []
        if before is not None:
            clauses.append(f"seen_seq < {ph}")
            params.append(before)
        if supplier is not None:
            clauses.append(f"supplier = {ph}")
            params.append(supplier)
        sql = (
            "SELECT seen_seq, doc FROM qa_runs"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + f" ORDER BY seen_seq DESC LIMIT {ph}"
        )
        return await self.reader.all(sql, (*params, limit))

    async def health(self) -> list[str]:
        return [
            r[0]
            for r in await self.reader.all("SELECT doc FROM qa_supplier_health ORDER BY supplier")
        ]

    async def close(self) -> None:
        if self.coalescer is not None:
            await self.coalescer.close()

    async def ping(self) -> None:
        await self.reader.one("SELECT 1")
