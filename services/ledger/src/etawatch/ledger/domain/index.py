"""The ledger's in-memory projection of its own store: item states, run logs, open orders.

``LedgerIndex.apply`` folds one stored event into it. It is built from the notification log at
start and kept current by reading the log's tail (so a second replica's writes are seen too).
"""

import uuid
from collections import defaultdict
from typing import Any

from eventsourcing.utils import get_topic

from etawatch.contracts.ids import item_id
from etawatch.contracts.topology import partition_of
from etawatch.ledger.domain.item import AvailabilityChanged, Returned, SupplierItem, WentMissing
from etawatch.ledger.domain.order import Closed, LineAdded, LineRemoved, Placed
from etawatch.ledger.domain.runs import Opened, RunCompared, RunLog, RunNotCompared
from etawatch.ledger.domain.state import ItemState, RunLogState, eta_key_from_dict

GroupKey = tuple[str, int]
"""``(supplier, partition)``."""

INDEX_EVENTS: tuple[type[Any], ...] = (
    SupplierItem.FirstSeen,
    SupplierItem.EtaChanged,
    AvailabilityChanged,
    WentMissing,
    Returned,
    Placed,
    LineAdded,
    LineRemoved,
    Closed,
    Opened,
    RunCompared,
    RunNotCompared,
)
INDEX_TOPICS: tuple[str, ...] = tuple(get_topic(cls) for cls in INDEX_EVENTS)


class LedgerIndex:
    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.position = 0
        """Id of the last notification folded in."""
        self.items: dict[uuid.UUID, ItemState] = {}
        self.groups: defaultdict[GroupKey, dict[str, ItemState]] = defaultdict(dict)
        self.run_logs: dict[uuid.UUID, RunLogState] = {}
        self.open_orders_by_item: defaultdict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        self.order_items: dict[uuid.UUID, set[uuid.UUID]] = {}

    def apply(self, event: Any) -> None:  # noqa: PLR0912 - one branch per event type
        oid: uuid.UUID = event.originator_id
        version: int = event.originator_version
        if isinstance(event, SupplierItem.FirstSeen):
            if oid in self.items:
                return
            state = ItemState(
                supplier=event.supplier,
                sku=event.sku,
                name=event.name,
                version=version,
                availability=event.availability,
                availability_raw=event.availability_raw,
                eta=eta_key_from_dict(event.eta),
                observed_at=event.observed_at.timestamp(),
            )
            self.items[oid] = state
            self.groups[(state.supplier, self.partition(state))][state.sku] = state
            return
        if isinstance(event, SupplierItem.Event):
            item = self.items.get(oid)
            if item is not None and version == item.version + 1:
                apply_item_event(item, event)
            return
        if isinstance(event, Opened):
            self.run_logs.setdefault(
                oid, RunLogState(event.supplier, event.partition, version=version)
            )
            return
        if isinstance(event, RunLog.Event):
            log = self.run_logs.get(oid)
            if log is not None and version == log.version + 1:
                self._apply_run_log(log, event)
            return
        if isinstance(event, Placed):
            self._open_order(oid, [item_id(x["supplier"], x["sku"]) for x in event.lines])
        elif isinstance(event, LineAdded):
            if oid in self.order_items:
                line_item = item_id(event.supplier, event.sku)
                self.order_items[oid].add(line_item)
                self.open_orders_by_item[line_item].add(oid)
        elif isinstance(event, LineRemoved):
            line_item = item_id(event.supplier, event.sku)
            self.order_items.get(oid, set()).discard(line_item)
            self.open_orders_by_item.get(line_item, set()).discard(oid)
        elif isinstance(event, Closed):
            for line_item in self.order_items.pop(oid, set()):
                self.open_orders_by_item.get(line_item, set()).discard(oid)

    def partition(self, state: ItemState) -> int:
        return partition_of(state.supplier, state.sku, self.partitions)

    def _open_order(self, oid: uuid.UUID, items: list[uuid.UUID]) -> None:
        self.order_items[oid] = set(items)
        for item in items:
            self.open_orders_by_item[item].add(oid)

    def _apply_run_log(self, log: RunLogState, event: Any) -> None:
        log.version = event.originator_version
        log.decided.add(event.run_id)
        if isinstance(event, RunCompared):
            log.last_started_at = max(log.last_started_at, event.started_at.timestamp())
            unseen = set(event.unseen)
            for state in self.groups.get((log.supplier, log.partition), {}).values():
                state.unseen_runs = state.unseen_runs + 1 if state.sku in unseen else 0


def apply_item_event(item: ItemState, event: Any) -> None:
    """Fold one of ``SupplierItem``'s events (after the first) into its compact state."""
    item.version = event.originator_version
    if isinstance(event, SupplierItem.EtaChanged):
        item.eta = eta_key_from_dict(event.eta)
        item.observed_at = max(item.observed_at, event.observed_at.timestamp())
    elif isinstance(event, AvailabilityChanged):
        item.availability = event.availability
        item.availability_raw = event.availability_raw
        item.observed_at = max(item.observed_at, event.observed_at.timestamp())
    elif isinstance(event, WentMissing):
        item.missing = True
    elif isinstance(event, Returned):
        item.missing = False
        item.unseen_runs = 0
        item.observed_at = max(item.observed_at, event.returned_at.timestamp())
