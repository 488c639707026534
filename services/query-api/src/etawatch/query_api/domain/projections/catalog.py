"""Supplier items with their current state, each item's history, and the feed of changes."""

from collections.abc import Sequence
from typing import Any

from etawatch.query_api.domain.facts import (
    ITEM_FACTS,
    Fact,
    ItemBaselined,
    ItemCameBack,
    ItemChanged,
    ItemWentMissing,
)
from etawatch.query_api.domain.rows import Row, Rows, Table

ITEMS = Table(
    "qa_items", key=("supplier", "sku"), columns=("changed_seq",), ints=frozenset({"changed_seq"})
)
ITEM_HISTORY = Table("qa_item_history", key=("supplier", "sku", "seq"), ints=frozenset({"seq"}))
CHANGES = Table("qa_changes", key=("seq",), columns=("supplier",), ints=frozenset({"seq"}))

ItemFact = ItemBaselined | ItemChanged | ItemWentMissing | ItemCameBack


def history_entry(fact: ItemFact, kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": fact.at,
        "kind": kind,
        "availability": item["availability"],
        "availability_raw": item["availability_raw"],
        "eta": item["eta"],
        "change_kind": getattr(fact, "change_kind", None),
        "shift_days": getattr(fact, "shift_days", None),
        "run_id": str(fact.run_id) if fact.run_id else None,
    }


def next_item_state(fact: ItemFact, current: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The item's document after ``fact``, and what kind of entry the fact is in its history."""
    at = fact.at
    if isinstance(fact, ItemBaselined):
        doc: dict[str, Any] = {
            "supplier": fact.supplier,
            "sku": fact.sku,
            "name": fact.name,
            "availability": fact.availability,
            "availability_raw": fact.availability_raw,
            "eta": fact.eta,
            "missing": False,
            "first_seen_at": at,
            "last_changed_at": at,
            "change_count": 0,
        }
        if current is not None:  # seen again after a reset: keep its first sighting
            doc["first_seen_at"] = current["first_seen_at"]
            doc["change_count"] = current["change_count"]
        return "baseline", doc
    doc = dict(current) if current is not None else _unseen(fact.supplier, fact.sku, at)
    doc["last_changed_at"] = at
    doc["change_count"] = doc["change_count"] + 1
    if isinstance(fact, ItemChanged):
        if fact.availability is not None:
            doc["availability"] = fact.availability
            doc["availability_raw"] = fact.availability_raw or fact.availability
        if fact.eta is not None:
            doc["eta"] = fact.eta
        doc["missing"] = False
        return "changed", doc
    if isinstance(fact, ItemWentMissing):
        doc["missing"] = True
        return "missing", doc
    doc.update(
        availability=fact.availability,
        availability_raw=fact.availability_raw,
        eta=fact.eta,
        missing=False,
    )
    return "returned", doc


def _unseen(supplier: str, sku: str, at: str) -> dict[str, Any]:
    return {
        "supplier": supplier,
        "sku": sku,
        "name": "",
        "availability": "unknown",
        "availability_raw": "",
        "eta": {"raw": "", "earliest": None, "latest": None, "precision": "unknown"},
        "missing": False,
        "first_seen_at": at,
        "last_changed_at": at,
        "change_count": 0,
    }


class CatalogProjection:
    name = "items"
    tables: tuple[Table, ...] = (ITEMS, ITEM_HISTORY, CHANGES)
    retired: tuple[str, ...] = ()

    def prefetch(self, facts: Sequence[Fact], rows: Rows) -> None:
        rows.prefetch(ITEMS, [(f.supplier, f.sku) for f in facts if isinstance(f, ITEM_FACTS)])

    def apply(self, fact: Fact, rows: Rows) -> None:
        if not isinstance(fact, ITEM_FACTS):
            return
        key = (fact.supplier, fact.sku)
        current = rows.get(ITEMS, key)
        kind, doc = next_item_state(fact, current["doc"] if current else None)
        rows.put(
            ITEMS, {"supplier": fact.supplier, "sku": fact.sku, "changed_seq": fact.seq, "doc": doc}
        )
        entry = history_entry(fact, kind, doc)
        rows.put(
            ITEM_HISTORY,
            {"supplier": fact.supplier, "sku": fact.sku, "seq": fact.seq, "doc": entry},
        )
        if kind != "baseline":
            rows.put(
                CHANGES,
                {
                    "seq": fact.seq,
                    "supplier": fact.supplier,
                    "doc": change_doc(fact, kind, current, doc),
                },
            )


def change_doc(
    fact: ItemFact, kind: str, before: Row | None, after: dict[str, Any]
) -> dict[str, Any]:
    previous = before["doc"] if before else None
    return {
        "cursor": str(fact.seq),
        "at": fact.at,
        "kind": kind,
        "supplier": fact.supplier,
        "sku": fact.sku,
        "name": after["name"],
        "previous_availability": previous["availability"] if previous else None,
        "availability": after["availability"],
        "previous_eta": previous["eta"] if previous else None,
        "eta": after["eta"],
        "change_kind": getattr(fact, "change_kind", None),
        "shift_days": getattr(fact, "shift_days", None),
    }
