"""What the query API learns from the ledger, in its own words.

The ledger's stored events are translated into these facts in one place
(``adapters.ledger_events``); every view is built from facts only, so a change in the ledger's
event classes touches one file. ``seq`` is the event's position in the ledger's notification
log, ``at`` the time the ledger recorded it.

Facts are values: nothing assigns to one once it is made. They are not declared frozen because a
frozen dataclass takes five times as long to make, and a rebuild makes hundreds of thousands.
"""

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from etawatch.query_api.domain.rows import storable

MOMENT = "moment"
Moment = Annotated[str, MOMENT]
"""A moment in the text form the views store (``timefmt.iso``: UTC, microseconds, ``+00:00``):
made once, when a ledger event becomes a fact, and sorting as the moments do. Marked, so that
``adapters.fact_codec`` knows the fields that hold one."""

Eta = dict[str, Any]
"""An ETA as JSON: ``raw``, ``earliest``, ``latest``, ``precision``."""


@dataclass(slots=True)
class Fact:
    seq: int
    at: Moment


@dataclass(slots=True)
class ItemBaselined(Fact):
    """First sighting of a supplier item: its state, not a change."""

    supplier: str
    sku: str
    name: str
    availability: str
    availability_raw: str
    eta: Eta
    run_id: uuid.UUID | None = None


@dataclass(slots=True)
class ItemChanged(Fact):
    """The ETA window or the availability moved; what did not move is ``None``."""

    supplier: str
    sku: str
    previous_availability: str | None = None
    availability: str | None = None
    availability_raw: str | None = None
    previous_eta: Eta | None = None
    eta: Eta | None = None
    change_kind: str | None = None
    shift_days: int | None = None
    run_id: uuid.UUID | None = None


@dataclass(slots=True)
class ItemWentMissing(Fact):
    supplier: str
    sku: str
    run_id: uuid.UUID | None = None


@dataclass(slots=True)
class ItemCameBack(Fact):
    supplier: str
    sku: str
    availability: str
    availability_raw: str
    eta: Eta
    run_id: uuid.UUID | None = None


ITEM_FACTS = (ItemBaselined, ItemChanged, ItemWentMissing, ItemCameBack)
"""The facts of a supplier item, for ``isinstance`` (a tuple: checked on every event)."""


@dataclass(slots=True)
class LineFact:
    supplier: str
    sku: str
    name: str
    quantity: int


@dataclass(slots=True)
class OrderOpened(Fact):
    shop_order_id: str
    customer_id: str
    customer_name: str
    locale: str
    placed_at: Moment
    lines: tuple[LineFact, ...] = field(default_factory=tuple)


@dataclass(slots=True)
class OrderLineAdded(Fact):
    shop_order_id: str
    line: LineFact


@dataclass(slots=True)
class OrderLineRemoved(Fact):
    shop_order_id: str
    supplier: str
    sku: str


@dataclass(slots=True)
class OrderEnded(Fact):
    shop_order_id: str
    reason: str
    closed_at: Moment


@dataclass(slots=True)
class LineChanged(Fact):
    """The ledger's record that an item change touched an open line (sent on as ``ETAChanged``)."""

    shop_order_id: str
    change_id: str
    supplier: str
    sku: str
    previous_availability: str | None
    availability: str
    previous_eta: Eta | None
    eta: Eta
    change_kind: str
    shift_days: int | None
    observed_at: Moment


@dataclass(slots=True)
class CustomerWasNotified(Fact):
    shop_order_id: str
    notification_id: str
    channel: str
    subject: str
    sent_at: Moment
    change_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class NotificationWasRefused(Fact):
    shop_order_id: str
    notification_id: str
    reason: str
    detail: str
    failed_at: Moment
    change_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class RunSucceeded(Fact):
    """A complete run; the scraper's own report of it is None when the ledger did not store it."""

    run_id: uuid.UUID
    supplier: str
    finished_at: Moment
    started_at: Moment | None = None
    items_seen: int | None = None
    pages: int | None = None
    unknown_availability: int | None = None
    unreadable_eta: int | None = None
    duplicate_skus: int | None = None


@dataclass(slots=True)
class RunFailed(Fact):
    """A failed run, or one that read less than it should (``reason="truncated"``)."""

    run_id: uuid.UUID
    supplier: str
    reason: str
    message: str
    failed_at: Moment
    started_at: Moment | None = None
    items_seen: int | None = None
    pages: int | None = None
    artifacts: tuple[str, ...] | None = None
    unknown_availability: int | None = None
    unreadable_eta: int | None = None
    duplicate_skus: int | None = None


@dataclass(slots=True)
class RunCompared(Fact):
    """One partition of a supplier's items was compared with the run's rows."""

    run_id: uuid.UUID
    supplier: str
    partition: int
    started_at: Moment
    finished_at: Moment
    observations: int
    unseen: int


@dataclass(slots=True)
class RunNotCompared(Fact):
    run_id: uuid.UUID
    supplier: str
    partition: int
    reason: str


@dataclass(slots=True)
class SupplierDegraded(Fact):
    supplier: str
    consecutive_failures: int
    last_reason: str
    failing_since: Moment


KEPT_AS_TEXT = ("supplier", "sku", "shop_order_id", "customer_id")
"""The fields of a fact the views keep as keys or text columns (the rest go into documents,
where a NUL is written escaped)."""


_KEPT: dict[type[Fact], tuple[str, ...]] = {}


def _kept_as_text(cls: type[Fact]) -> tuple[str, ...]:
    kept = _KEPT.get(cls)
    if kept is None:
        names = {f.name for f in dataclasses.fields(cls)}
        kept = tuple(name for name in KEPT_AS_TEXT if name in names)
        if cls is OrderEnded:
            kept = (*kept, "reason")  # an order's status column
        _KEPT[cls] = kept
    return kept


def unstorable(fact: Fact) -> str | None:
    """The name of the first of the fact's texts that the views keep as a key or column and
    could not hold (``rows.storable``: a NUL character), its lines' included; ``None`` if all
    can be held. Such a fact is left out of every view: PostgreSQL refuses the write, and the
    views would stop at it for good."""
    for name in _kept_as_text(type(fact)):
        if not storable(getattr(fact, name)):
            return name
    lines = (
        fact.lines
        if isinstance(fact, OrderOpened)
        else (fact.line,)
        if isinstance(fact, OrderLineAdded)
        else ()
    )
    for line in lines:
        if not storable(line.supplier, line.sku):
            return "lines.supplier" if not storable(line.supplier) else "lines.sku"
    return None
