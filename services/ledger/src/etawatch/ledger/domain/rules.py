"""The change rules: when an observation is a change, and what a customer would call it."""

from dataclasses import dataclass

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import EtaComparison, Shift, compare_eta
from etawatch.contracts.messages import ChangeKind
from etawatch.ledger.domain.state import ItemState, Row, eta_of, same_window


@dataclass(frozen=True, slots=True)
class ItemChange:
    """What differs between an item's state and a newer observation of it."""

    eta: EtaComparison | None
    """``None`` when the window is the same (whatever the wording)."""
    availability: bool

    @property
    def changed(self) -> bool:
        return self.eta is not None or self.availability


def is_late(state: ItemState, row: Row) -> bool:
    """An observation older than the newest fact recorded never turns the clock back."""
    return row.observed_at < state.observed_at


def compare(state: ItemState, row: Row) -> ItemChange:
    eta = None
    if not same_window(state.eta, row.eta):
        eta = compare_eta(eta_of(state.eta), eta_of(row.eta))
        if eta.shift is Shift.SAME:  # pragma: no cover - same_window said otherwise
            eta = None
    return ItemChange(eta=eta, availability=state.availability != row.availability)


_AVAILABILITY_KINDS = {
    Availability.DISCONTINUED: ChangeKind.DISCONTINUED,
    Availability.SOLD_OUT: ChangeKind.SOLD_OUT,
    Availability.IN_STOCK: ChangeKind.IN_STOCK,
}
_SHIFT_KINDS = {
    Shift.LATER: ChangeKind.ETA_LATER,
    Shift.EARLIER: ChangeKind.ETA_EARLIER,
    Shift.BECAME_KNOWN: ChangeKind.ETA_KNOWN,
    Shift.BECAME_UNKNOWN: ChangeKind.ETA_UNKNOWN,
}


def change_kind(new_availability: str, change: ItemChange) -> ChangeKind:
    """The most important name for the change (``ChangeKind`` is ordered that way)."""
    if change.availability:
        kind = _AVAILABILITY_KINDS.get(Availability(new_availability))
        if kind is not None:
            return kind
    if change.eta is not None:
        if change.eta.shift is Shift.REFINED:
            # The window narrowed inside the old one: earlier if its end moved, else later.
            return ChangeKind.ETA_EARLIER if (change.eta.days or 0) < 0 else ChangeKind.ETA_LATER
        return _SHIFT_KINDS[change.eta.shift]
    return ChangeKind.AVAILABILITY_CHANGED


def missing_now(state: ItemState, unseen_runs: int, threshold: int) -> bool:
    """An item goes missing once, after ``threshold`` consecutive complete runs without it."""
    return not state.missing and unseen_runs >= threshold
