"""The timeline of one item or one order, read from the store, for people."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from etawatch.contracts.ids import item_id, order_id
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.item import SupplierItem

_SKIP = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


@dataclass(frozen=True)
class Entry:
    version: int
    recorded_at: str
    what: str
    details: str


def suppliers_of(store: LedgerStore, sku: str) -> list[str]:
    """Suppliers that have an item with this SKU (a scan of first sightings)."""
    found: set[str] = set()
    start = 0
    topic = get_topic(SupplierItem.FirstSeen)
    while True:
        page = store.recorder.select_notifications(
            start, 1000, topics=[topic], inclusive_of_start=False
        )
        for notification in page:
            event: Any = store.mapper.to_domain_event(notification)
            if event.sku == sku:
                found.add(event.supplier)
        if len(page) < 1000:
            return sorted(found)
        start = page[-1].id


def item_timeline(store: LedgerStore, supplier: str, sku: str) -> list[Entry]:
    return list(_timeline(store, item_id(supplier, sku)))


def order_timeline(store: LedgerStore, shop_order_id: str) -> list[Entry]:
    return list(_timeline(store, order_id(shop_order_id)))


def _timeline(store: LedgerStore, aggregate_id: uuid.UUID) -> Iterator[Entry]:
    event: Any
    for event in store.events.get(aggregate_id):
        fields = {k: v for k, v in vars(event).items() if k not in _SKIP}
        yield Entry(
            version=event.originator_version,
            recorded_at=event.timestamp.isoformat(timespec="seconds"),
            what=type(event).__name__,
            details=", ".join(f"{k}={_short(v)}" for k, v in fields.items()),
        )


def _short(value: Any) -> str:
    if isinstance(value, dict) and "raw" in value:
        return repr(value["raw"])
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "[" + ", ".join(f"{x.get('sku')}x{x.get('quantity', '')}" for x in value) + "]"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
