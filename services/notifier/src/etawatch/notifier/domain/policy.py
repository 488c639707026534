"""When to tell a customer about a change of an item they ordered.

Always: the item came in stock, was sold out or discontinued, left stock or a final state again,
or its latest date moved later by at least ``later_threshold_days``. By choice: earlier dates,
small slips, a date that became known or unknown, other availability changes. Small slips are
never lost: the customer's baseline stays where it was, so slips add up until they pass the
threshold.
"""

import datetime as dt
from dataclasses import dataclass

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Shift, compare_eta
from etawatch.contracts.messages import ChangeKind
from etawatch.notifier.domain.model import ItemState, SuppressReason

ALWAYS_TOLD_AVAILABILITY = {
    Availability.DISCONTINUED: ChangeKind.DISCONTINUED,
    Availability.SOLD_OUT: ChangeKind.SOLD_OUT,
    Availability.IN_STOCK: ChangeKind.IN_STOCK,
}


@dataclass(frozen=True, slots=True)
class Tell:
    kind: ChangeKind
    shift_days: int | None


@dataclass(frozen=True, slots=True)
class Hold:
    """Not told now; the customer's baseline stays, so later changes add up."""

    kind: ChangeKind | None
    reason: SuppressReason


Verdict = Tell | Hold


@dataclass(frozen=True, slots=True)
class NotificationPolicy:
    later_threshold_days: int = 7
    tell_earlier: bool = True
    tell_small_slips: bool = False
    tell_eta_known: bool = True
    tell_eta_unknown: bool = True
    tell_availability_changed: bool = False
    debounce: dt.timedelta = dt.timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.later_threshold_days < 1:
            raise ValueError("later_threshold_days must be at least 1")
        if self.debounce < dt.timedelta(0):
            raise ValueError("debounce must not be negative")

    def judge(self, before: ItemState, after: ItemState) -> Verdict:
        """Tell or hold the change from what the customer knows (``before``) to ``after``."""
        if before.same_as(after):
            return Hold(None, SuppressReason.FLAPPING)
        changed = after.availability is not before.availability
        kind = ALWAYS_TOLD_AVAILABILITY.get(after.availability) if changed else None
        if kind is not None:
            return Tell(kind, None)
        comparison = compare_eta(before.eta, after.eta)
        verdict = self._by_dates(comparison.shift, comparison.days)
        # Leaving stock, or coming back from sold out or discontinued, is always told.
        left = changed and (
            before.availability is Availability.IN_STOCK or before.availability.is_final
        )
        if left and isinstance(verdict, Hold):
            return Tell(verdict.kind or ChangeKind.AVAILABILITY_CHANGED, comparison.days or None)
        return verdict

    def _by_dates(self, shift: Shift, days: int | None) -> Verdict:  # noqa: PLR0911
        match shift:
            case Shift.LATER:
                if (days or 0) >= self.later_threshold_days or self.tell_small_slips:
                    return Tell(ChangeKind.ETA_LATER, days)
                return Hold(ChangeKind.ETA_LATER, SuppressReason.BELOW_THRESHOLD)
            case Shift.EARLIER | Shift.REFINED:
                if self.tell_earlier:
                    return Tell(ChangeKind.ETA_EARLIER, days)
                return Hold(ChangeKind.ETA_EARLIER, SuppressReason.EARLIER_NOT_TOLD)
            case Shift.BECAME_KNOWN:
                return self._by_choice(ChangeKind.ETA_KNOWN, self.tell_eta_known)
            case Shift.BECAME_UNKNOWN:
                return self._by_choice(ChangeKind.ETA_UNKNOWN, self.tell_eta_unknown)
        # Same dates, another availability (pre-order <-> delayed, unknown, ...).
        return self._by_choice(ChangeKind.AVAILABILITY_CHANGED, self.tell_availability_changed)

    @staticmethod
    def _by_choice(kind: ChangeKind, tell: bool) -> Verdict:
        return Tell(kind, None) if tell else Hold(kind, SuppressReason.NOT_TOLD_BY_POLICY)
