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
from typing import Annotated, Any, TypeVar

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


KEYS = ("supplier", "sku", "shop_order_id")
"""The texts of a fact the views key rows by."""
COLUMNS = ("customer_id",)
"""The texts of a fact the views keep as columns of their own, with an order's closing reason
(its status); every other text goes into a document, where a NUL is written escaped."""
SHOWN_FOR_NUL = "\ufffd"
"""What a NUL character in a column becomes: the replacement character."""

_FIELDS: dict[type[Fact], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _fields(cls: type[Fact]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fact's keys and its columns (of ``KEYS``, ``COLUMNS``)."""
    found = _FIELDS.get(cls)
    if found is None:
        names = {f.name for f in dataclasses.fields(cls)}
        columns = tuple(name for name in COLUMNS if name in names)
        found = _FIELDS[cls] = (
            tuple(name for name in KEYS if name in names),
            (*columns, "reason") if cls is OrderEnded else columns,
        )
    return found


def unstorable(fact: Fact) -> str | None:
    """The name of the first of the fact's keys, its lines' included, that no view could hold
    (``rows.storable``: a NUL character); ``None`` if all can be. Such a fact is left out of
    every view: PostgreSQL refuses the write, and the views would stop at it for good."""
    for name in _fields(type(fact))[0]:
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


F = TypeVar("F", bound=Fact)


def storable_columns(fact: F) -> tuple[F, tuple[str, ...]]:
    """The fact with a NUL in a text the views keep as a column shown as ``SHOWN_FOR_NUL``,
    and the names of the columns changed (the fact itself when none is)."""
    changed = tuple(name for name in _fields(type(fact))[1] if not storable(getattr(fact, name)))
    if not changed:
        return fact, ()
    shown = {name: getattr(fact, name).replace("\x00", SHOWN_FOR_NUL) for name in changed}
    return dataclasses.replace(fact, **shown), changed
