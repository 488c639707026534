"""The notifier's own words: item states, what a customer knows, what to tell them."""

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import ETA
from etawatch.contracts.messages import ChangeKind, ETAChanged


class SuppressReason(StrEnum):
    """Why something was not (or not yet) told; the label of the ``suppressed`` metric."""

    MISSING_PREVIOUS = "missing_previous"
    DUPLICATE = "duplicate"
    FLAPPING = "flapping"
    SUPERSEDED = "superseded"
    BELOW_THRESHOLD = "below_threshold"
    EARLIER_NOT_TOLD = "earlier_not_told"
    NOT_TOLD_BY_POLICY = "not_told_by_policy"
    NO_OPERATOR_ADDRESS = "no_operator_address"


@dataclass(frozen=True, slots=True)
class ItemState:
    """Availability and ETA of one item, as a customer sees it."""

    availability: Availability
    eta: ETA

    def same_as(self, other: "ItemState") -> bool:
        return self.availability is other.availability and self.eta.same_window(other.eta)


@dataclass(frozen=True, slots=True)
class ItemKey:
    shop_order_id: str
    supplier: str
    sku: str


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the customer last knew of an item, and the changes since then not told yet.

    ``as_of`` is when the newest change planned for the item was observed (``None`` before
    any): a change observed no later than that arrived late and is superseded.
    """

    state: ItemState
    held_change_ids: tuple[str, ...] = ()
    as_of: dt.datetime | None = None

    def supersedes(self, change: "PendingChange") -> bool:
        return self.as_of is not None and change.observed_at <= self.as_of


@dataclass(frozen=True, slots=True)
class PendingChange:
    """An ``ETAChanged`` waiting for its order's debounce window to pass."""

    change_id: str
    received_at: dt.datetime
    change: ETAChanged

    @property
    def observed_at(self) -> dt.datetime:
        return self.change.observed_at

    @property
    def newness(self) -> tuple[dt.datetime, dt.datetime]:
        """Sort key: by the observation's own time, then by arrival (for equal times)."""
        return (self.observed_at, self.received_at)

    @property
    def key(self) -> ItemKey:
        return ItemKey(self.change.shop_order_id, self.change.supplier, self.change.sku)

    @property
    def before(self) -> ItemState:
        if self.change.previous_availability is None or self.change.previous_eta is None:
            raise ValueError(f"change {self.change_id} has no previous value")
        return ItemState(self.change.previous_availability, self.change.previous_eta)

    @property
    def after(self) -> ItemState:
        return ItemState(self.change.new_availability, self.change.new_eta)


@dataclass(frozen=True, slots=True)
class ItemNotice:
    """One item of a notification: what it was, what it is now."""

    supplier: str
    sku: str
    item_name: str
    quantity: int
    kind: ChangeKind
    before: ItemState
    after: ItemState
    shift_days: int | None
    change_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recipient:
    customer_id: str
    email: str
    name: str
    locale: str


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one customer is told about one order in one email."""

    shop_order_id: str
    recipient: Recipient
    items: tuple[ItemNotice, ...]
    queued_at: dt.datetime

    @property
    def change_ids(self) -> tuple[str, ...]:
        return tuple(sorted({cid for item in self.items for cid in item.change_ids}))


@dataclass(frozen=True, slots=True)
class Suppressed:
    key: ItemKey
    reason: SuppressReason
    change_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FlushPlan:
    """The outcome of one order's window: a digest (or none), and the new baselines."""

    shop_order_id: str
    consumed: tuple[str, ...]
    digest: Digest | None
    suppressed: tuple[Suppressed, ...]
    baselines: dict[ItemKey, Baseline] = field(default_factory=dict)
