"""The one place that knows the ledger's stored event classes: it turns them into facts.

Events that carry no supplier, SKU or shop order id (an item's ``EtaChanged``, an order's
``Closed``...) are named by their aggregate's created event; the names are remembered, and an
aggregate first met in the middle of its life is looked up in the store once.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from etawatch.contracts.ids import item_id, order_id
from etawatch.ledger.application.store import LedgerStore, open_read_only
from etawatch.ledger.domain.health import SupplierHealth
from etawatch.ledger.domain.item import SupplierItem
from etawatch.ledger.domain.order import Order
from etawatch.ledger.domain.runs import RunLog
from etawatch.ledger.domain.values import stored_event_id
from etawatch.query_api.adapters.stored_json import LedgerReader
from etawatch.query_api.domain import facts as f
from etawatch.query_api.domain.timefmt import iso
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

LEFT_OUT = "event left out of the views: a key holds a NUL character"
SHOWN = "a NUL character in a column of the views is shown as U+FFFD"

Event = Any
Name = tuple[str, ...]
MomentOf = Callable[[dt.datetime], f.Moment]

SHIFT_KIND = {
    "later": "eta_later",
    "earlier": "eta_earlier",
    "refined": "eta_earlier",
    "became_known": "eta_known",
    "became_unknown": "eta_unknown",
}
AVAILABILITY_KIND = {
    "in_stock": "in_stock",
    "sold_out": "sold_out",
    "discontinued": "discontinued",
}

CREATED: tuple[type[Any], ...] = (
    SupplierItem.FirstSeen,
    Order.Placed,  # type: ignore[attr-defined]
    SupplierHealth.Registered,  # type: ignore[attr-defined]
    RunLog.Opened,  # type: ignore[attr-defined]
)


def _name_of(event: Event) -> Name:
    if isinstance(event, SupplierItem.FirstSeen):
        return (event.supplier, event.sku)
    if isinstance(event, Order.Placed):  # type: ignore[attr-defined]
        return (event.shop_order_id,)
    if isinstance(event, SupplierHealth.Registered):  # type: ignore[attr-defined]
        return (event.supplier,)
    return (event.supplier, str(event.partition))


class Translator:
    """Ledger domain events -> facts. ``lookup`` finds an aggregate's created event."""

    def __init__(
        self,
        lookup: Callable[[uuid.UUID], Event | None],
        moment: MomentOf = iso,
        *,
        reporting: bool = True,
    ) -> None:
        """``moment``: how a moment of the ledger's becomes a fact's (the views' text form; the
        rebuild's reading process leaves it to ``fact_codec``, which makes it faster).
        ``reporting``: whether events left out or changed (``facts.unstorable``,
        ``facts.storable_columns``) are logged and counted; not for answers ``as_of`` a
        moment, whose positions are their own."""
        self._lookup = lookup
        self._moment = moment
        self._names: dict[uuid.UUID, Name] = {}
        self._reporting = reporting
        self._reported_to = 0
        self.left_out = 0
        """Events left out of the views (``facts.unstorable``), each counted and logged once,
        with its position."""
        self._by_type: dict[type[Any], Callable[[Event, Name, int], f.Fact | None]] = {
            SupplierItem.FirstSeen: self._first_seen,
            SupplierItem.EtaChanged: self._eta_changed,
            SupplierItem.AvailabilityChanged: self._availability_changed,  # type: ignore[attr-defined]
            SupplierItem.WentMissing: self._went_missing,  # type: ignore[attr-defined]
            SupplierItem.Returned: self._returned,  # type: ignore[attr-defined]
            Order.Placed: self._placed,  # type: ignore[attr-defined]
            Order.LineAdded: self._line_added,  # type: ignore[attr-defined]
            Order.LineRemoved: self._line_removed,  # type: ignore[attr-defined]
            Order.Closed: self._closed,  # type: ignore[attr-defined]
            Order.LineItemChanged: self._line_changed,  # type: ignore[attr-defined]
            Order.CustomerNotified: self._notified,  # type: ignore[attr-defined]
            Order.NotificationFailed: self._notification_failed,  # type: ignore[attr-defined]
            SupplierHealth.RunSucceeded: self._run_succeeded,
            SupplierHealth.RunFailed: self._run_failed,
            SupplierHealth.Degraded: self._degraded,  # type: ignore[attr-defined]
            RunLog.RunCompared: self._run_compared,  # type: ignore[attr-defined]
            RunLog.RunNotCompared: self._run_not_compared,  # type: ignore[attr-defined]
        }

    def translate(self, event: Event, seq: int) -> f.Fact | None:
        handler = self._by_type.get(type(event))
        if handler is None:
            return None
        originator = event.originator_id
        if isinstance(event, CREATED):
            name = self._names[originator] = _name_of(event)
        else:
            found = self._names.get(originator)
            if found is None:
                created = self._lookup(originator)
                if created is None:
                    return None  # an aggregate without its first event: nothing to name it by
                found = self._names[originator] = _name_of(created)
            name = found
        fact = handler(event, name, seq)
        if fact is None:
            return None
        if (field := f.unstorable(fact)) is not None:
            if self._first_time(seq):
                self.left_out += 1
                log.warning(LEFT_OUT, position=seq, fact=type(fact).__name__, field=field)
            return None
        fact, shown = f.storable_columns(fact)
        if shown and self._first_time(seq):
            log.warning(SHOWN, position=seq, fact=type(fact).__name__, fields=list(shown))
        return fact

    def _first_time(self, seq: int) -> bool:
        """Whether to report the event at ``seq``: once, the first time it is translated (a
        projector reads a batch again after a failed commit, or when one view stopped short of
        the others), and not for answers ``as_of`` a moment."""
        if not self._reporting or seq <= self._reported_to:
            return False
        self._reported_to = seq
        return True

    # --- supplier items -------------------------------------------------------------------

    def _first_seen(self, e: Event, _n: Name, seq: int) -> f.Fact:
        return f.ItemBaselined(
            seq=seq,
            at=self._moment(e.timestamp),
            supplier=e.supplier,
            sku=e.sku,
            name=e.name,
            availability=e.availability,
            availability_raw=e.availability_raw,
            eta=e.eta,
            run_id=e.run_id,
        )

    def _eta_changed(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.ItemChanged(
            seq=seq,
            at=self._moment(e.timestamp),
            supplier=n[0],
            sku=n[1],
            previous_eta=e.previous_eta,
            eta=e.eta,
            change_kind=SHIFT_KIND.get(e.shift or "", "eta_changed"),
            shift_days=e.shift_days,
            run_id=e.run_id,
        )

    def _availability_changed(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.ItemChanged(
            seq=seq,
            at=self._moment(e.timestamp),
            supplier=n[0],
            sku=n[1],
            previous_availability=e.previous_availability,
            availability=e.availability,
            availability_raw=e.availability_raw,
            change_kind=AVAILABILITY_KIND.get(e.availability, "availability_changed"),
            run_id=e.run_id,
        )

    def _went_missing(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.ItemWentMissing(
            seq=seq, at=self._moment(e.timestamp), supplier=n[0], sku=n[1], run_id=e.run_id
        )

    def _returned(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.ItemCameBack(
            seq=seq,
            at=self._moment(e.timestamp),
            supplier=n[0],
            sku=n[1],
            availability=e.availability,
            availability_raw=e.availability_raw,
            eta=e.eta,
            run_id=e.run_id,
        )

    # --- orders ---------------------------------------------------------------------------

    @staticmethod
    def _line(line: Mapping[str, Any]) -> f.LineFact:
        return f.LineFact(line["supplier"], line["sku"], line["name"], int(line["quantity"]))

    def _placed(self, e: Event, _n: Name, seq: int) -> f.Fact:
        return f.OrderOpened(
            seq=seq,
            at=self._moment(e.timestamp),
            shop_order_id=e.shop_order_id,
            customer_id=e.customer_id,
            customer_name=e.customer_name,
            locale=e.locale,
            placed_at=self._moment(e.placed_at),
            lines=tuple([self._line(x) for x in e.lines]),
        )

    def _line_added(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.OrderLineAdded(
            seq=seq,
            at=self._moment(e.timestamp),
            shop_order_id=n[0],
            line=self._line(
                {"supplier": e.supplier, "sku": e.sku, "name": e.name, "quantity": e.quantity}
            ),
        )

    def _line_removed(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.OrderLineRemoved(
            seq=seq,
            at=self._moment(e.timestamp),
            shop_order_id=n[0],
            supplier=e.supplier,
            sku=e.sku,
        )

    def _closed(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.OrderEnded(
            seq=seq,
            at=self._moment(e.timestamp),
            shop_order_id=n[0],
            reason=e.reason,
            closed_at=self._moment(e.closed_at),
        )

    def _line_changed(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.LineChanged(
            seq=seq,
            at=self._moment(e.timestamp),
            shop_order_id=n[0],
            change_id=str(stored_event_id(e.originator_id, e.originator_version)),
            supplier=e.supplier,
            sku=e.sku,
            previous_availability=e.previous_availability,
            availability=e.new_availability,
            previous_eta=e.previous_eta,
            eta=e.new_eta,
            change_kind=e.change_kind,
            shift_days=e.shift_days,
            observed_at=self._moment(e.observed_at),
        )

    def _notified(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.CustomerWasNotified(
            seq=seq,
            at=self._moment(e.timestamp),
            shop_order_id=n[0],
            notification_id=str(e.notification_id),
            channel=e.channel,
            subject=e.subject,
            sent_at=self._moment(e.sent_at),
            change_ids=tuple(e.change_ids),
        )

    def _notification_failed(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.NotificationWasRefused(
            seq=seq,
            at=self._moment(e.timestamp),
            shop_order_id=n[0],
            notification_id=str(e.notification_id),
            reason=e.reason,
            detail=e.detail,
            failed_at=self._moment(e.failed_at),
            change_ids=tuple(e.change_ids),
        )

    # --- runs and health ------------------------------------------------------------------

    def _outcome(self, e: Event, n: Name, seq: int) -> dict[str, Any]:
        """What both run outcomes carry, with the scraper's report (None in version 1 events; its
        data-quality counts None in version 1 and 2 events)."""
        return {
            "seq": seq,
            "at": self._moment(e.timestamp),
            "run_id": e.run_id,
            "supplier": n[0],
            "started_at": None if e.started_at is None else self._moment(e.started_at),
            "items_seen": e.items_seen,
            "pages": e.pages,
            "unknown_availability": e.unknown_availability,
            "unreadable_eta": e.unreadable_eta,
            "duplicate_skus": e.duplicate_skus,
        }

    def _run_succeeded(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.RunSucceeded(finished_at=self._moment(e.finished_at), **self._outcome(e, n, seq))

    def _run_failed(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.RunFailed(
            reason=e.reason,
            message=e.message,
            failed_at=self._moment(e.failed_at),
            artifacts=None if e.artifacts is None else tuple(e.artifacts),
            **self._outcome(e, n, seq),
        )

    def _degraded(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.SupplierDegraded(
            seq=seq,
            at=self._moment(e.timestamp),
            supplier=n[0],
            consecutive_failures=e.consecutive_failures,
            last_reason=e.last_reason,
            failing_since=self._moment(e.failing_since),
        )

    def _run_compared(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.RunCompared(
            seq=seq,
            at=self._moment(e.timestamp),
            run_id=e.run_id,
            supplier=n[0],
            partition=int(n[1]),
            started_at=self._moment(e.started_at),
            finished_at=self._moment(e.finished_at),
            observations=e.observations,
            unseen=len(e.unseen),
        )

    def _run_not_compared(self, e: Event, n: Name, seq: int) -> f.Fact:
        return f.RunNotCompared(
            seq=seq,
            at=self._moment(e.timestamp),
            run_id=e.run_id,
            supplier=n[0],
            partition=int(n[1]),
            reason=e.reason,
        )


class LedgerEventSource:
    """``EventSource`` over the ledger's store, read-only: the notification log as facts."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        store: LedgerStore | None = None,
        *,
        moment: MomentOf = iso,
    ) -> None:
        """Open the store read-only from ``env``, or read a ``store`` the caller already has
        (the embedded demo's, which it keeps and closes). ``moment``: see ``Translator``."""
        if store is None and env is None:
            raise ValueError("give the ledger's environment or its store")
        self._owned = store is None
        self.env = dict(env) if store is None and env is not None else None
        """Where a second process can open the store again (``None``: a store handed over)."""
        self.store: LedgerStore = (
            store if store is not None else open_read_only(env or {}, LedgerReader)
        )
        self.translator = Translator(self.created_event, moment)

    def created_event(self, originator_id: uuid.UUID) -> Event | None:
        stored = self.store.recorder.select_events(originator_id, lte=1, limit=1)
        return self.store.mapper.to_domain_event(stored[0]) if stored else None

    def read(self, after: int, limit: int) -> Sequence[tuple[int, f.Fact | None]]:
        notifications = self.store.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        to_domain = self.store.mapper.to_domain_event
        translate = self.translator.translate
        return [(n.id, translate(to_domain(n), n.id)) for n in notifications]

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def aggregate_events(self, originator_ids: Iterable[uuid.UUID]) -> list[Event]:
        """Every event of these aggregates, for answers ``as_of`` a moment."""
        events: list[Event] = []
        for originator_id in originator_ids:
            for stored in self.store.recorder.select_events(originator_id):
                events.append(self.store.mapper.to_domain_event(stored))
        return events

    def close(self) -> None:
        if self._owned:
            self.store.close()


class LedgerHistory:
    """``History`` for answers ``as_of`` a moment: one aggregate's events at a time."""

    def __init__(self, source: LedgerEventSource) -> None:
        self.source = source

    def order_facts(self, shop_order_id: str, until: dt.datetime) -> Sequence[f.Fact]:
        return self._facts([order_id(shop_order_id)], until)

    def item_facts(self, items: Iterable[tuple[str, str]], until: dt.datetime) -> Sequence[f.Fact]:
        return self._facts([item_id(supplier, sku) for supplier, sku in items], until)

    def _facts(self, originator_ids: list[uuid.UUID], until: dt.datetime) -> list[f.Fact]:
        events = [e for e in self.source.aggregate_events(originator_ids) if e.timestamp <= until]
        events.sort(key=lambda e: e.timestamp)
        translator = Translator(self.source.created_event, reporting=False)
        facts = (translator.translate(e, seq) for seq, e in enumerate(events, start=1))
        return [fact for fact in facts if fact is not None]
