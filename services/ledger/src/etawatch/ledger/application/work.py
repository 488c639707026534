"""One unit of work: the events of one atomic save, planned against copies of the index."""

import copy
import datetime as dt
import uuid
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.health import SupplierHealth
from etawatch.ledger.domain.index import LedgerIndex, apply_item_event
from etawatch.ledger.domain.item import SupplierItem
from etawatch.ledger.domain.order import Order
from etawatch.ledger.domain.runs import Opened, RunLog
from etawatch.ledger.domain.state import ItemState, RunLogState, eta_key_from_dict


class Work:
    """Collects new events; never touches the index (that happens after the commit)."""

    def __init__(self, index: LedgerIndex, store: LedgerStore) -> None:
        self.index = index
        self.store = store
        self.events: list[Any] = []
        self.items: dict[uuid.UUID, ItemState] = {}
        self.run_logs: dict[uuid.UUID, RunLogState] = {}
        self.orders: dict[uuid.UUID, Order | None] = {}
        self.health: dict[uuid.UUID, SupplierHealth] = {}

    @property
    def empty(self) -> bool:
        return not self.events and not any(
            a is not None and a.pending_events
            for a in (*self.orders.values(), *self.health.values())
        )

    def aggregates(self) -> list[Any]:
        return [*(o for o in self.orders.values() if o), *self.health.values()]

    # --- items ------------------------------------------------------------------------------

    def item(self, iid: uuid.UUID) -> ItemState | None:
        """The state to change: a copy, so the index changes only after the commit."""
        state = self.items.get(iid)
        if state is None:
            known = self.index.items.get(iid)
            if known is None:
                return None
            state = self.items[iid] = copy.copy(known)
        return state

    def first_seen(self, iid: uuid.UUID, **fields: Any) -> ItemState:
        event = SupplierItem.FirstSeen(
            originator_id=iid,
            originator_version=1,
            timestamp=SupplierItem.FirstSeen.create_timestamp(),
            originator_topic=get_topic(SupplierItem),
            **fields,
        )
        self.events.append(event)
        state = self.items[iid] = ItemState(
            supplier=event.supplier,
            sku=event.sku,
            name=event.name,
            version=1,
            availability=event.availability,
            availability_raw=event.availability_raw,
            eta=eta_key_from_dict(event.eta),
            observed_at=event.observed_at.timestamp(),
        )
        return state

    def record_item(self, iid: uuid.UUID, state: ItemState, cls: type[Any], **fields: Any) -> None:
        event = cls(
            originator_id=iid,
            originator_version=state.version + 1,
            timestamp=cls.create_timestamp(),
            **fields,
        )
        apply_item_event(state, event)
        self.events.append(event)

    # --- run logs ---------------------------------------------------------------------------

    def run_log(self, supplier: str, partition: int) -> RunLogState:
        lid = RunLog.create_id(supplier, partition, self.index.partitions)
        state = self.run_logs.get(lid)
        if state is not None:
            return state
        known = self.index.run_logs.get(lid)
        if known is not None:
            state = copy.copy(known)
            state.decided = set(known.decided)
        else:
            self.events.append(
                Opened(
                    originator_id=lid,
                    originator_version=1,
                    timestamp=Opened.create_timestamp(),
                    originator_topic=get_topic(RunLog),
                    supplier=supplier,
                    partition=partition,
                    partitions=self.index.partitions,
                )
            )
            state = RunLogState(supplier, partition, version=1)
        self.run_logs[lid] = state
        return state

    def record_run(self, log: RunLogState, cls: type[Any], **fields: Any) -> None:
        lid = RunLog.create_id(log.supplier, log.partition, self.index.partitions)
        log.version += 1
        log.decided.add(fields["run_id"])
        self.events.append(
            cls(
                originator_id=lid,
                originator_version=log.version,
                timestamp=cls.create_timestamp(),
                **fields,
            )
        )

    # --- aggregates loaded from the store ---------------------------------------------------

    def order(self, oid: uuid.UUID) -> Order | None:
        if oid not in self.orders:
            try:
                self.orders[oid] = self.store.repository.get(oid)
            except AggregateNotFoundError:
                self.orders[oid] = None
        return self.orders[oid]

    def add_order(self, order: Order) -> None:
        self.orders[order.id] = order

    def supplier_health(self, supplier: str) -> SupplierHealth:
        hid = SupplierHealth.create_id(supplier)
        if hid not in self.health:
            try:
                self.health[hid] = self.store.repository.get(hid)
            except AggregateNotFoundError:
                self.health[hid] = SupplierHealth(supplier)
        return self.health[hid]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
