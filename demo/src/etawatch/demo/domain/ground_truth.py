"""The portal's own record of what it changed, to check a pipeline against.

Each entry names the item (``sku``), the ``field`` that changed (``availability``, ``eta`` or
``item`` for appearing and vanishing), the texts ``before`` and ``after`` exactly as the portal
shows them, the ``kind`` of change and the scenario date ``at``.

Only ``ChangeKind.AVAILABILITY`` and ``ChangeKind.ETA`` are real changes that a customer may
need to hear about. ``REWORDED`` is the same window of dates in other words: not a change.
``APPEARED`` is a new row (its first sighting is a baseline) and ``VANISHED`` a row gone (never
an email on its own).
"""

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import ETA, Shift, compare_eta, parse_eta
from etawatch.demo.domain.wording import WORD_AVAILABILITY

FieldName = Literal["availability", "eta", "item"]


class ChangeKind(StrEnum):
    AVAILABILITY = "availability"
    """The availability state changed (e.g. ``Předobjednávka`` -> ``Skladem``): real."""
    ETA = "eta"
    """The ETA's window of dates changed (later, earlier, became known or unknown): real."""
    REWORDED = "reworded"
    """The ETA text changed but names the same window: NOT a change."""
    APPEARED = "appeared"
    """A new row: the first sighting is a baseline, not a change."""
    VANISHED = "vanished"
    """The row is gone: never a customer email on its own."""

    @property
    def is_real(self) -> bool:
        return self in (ChangeKind.AVAILABILITY, ChangeKind.ETA)


class GroundTruthChange(BaseModel):
    """One change the portal made, on scenario day ``at``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: dt.date
    sku: str
    field: FieldName
    before: str | None
    after: str | None
    kind: ChangeKind
    shift: Shift | None = None
    """For ``kind == "eta"``: how the window moved (``compare_eta`` of before and after)."""

    @property
    def is_real(self) -> bool:
        return self.kind.is_real

    @property
    def before_eta(self) -> ETA | None:
        return self._eta(self.before)

    @property
    def after_eta(self) -> ETA | None:
        return self._eta(self.after)

    @property
    def before_availability(self) -> Availability | None:
        return self._availability(self.before)

    @property
    def after_availability(self) -> Availability | None:
        return self._availability(self.after)

    def _eta(self, text: str | None) -> ETA | None:
        if self.field != "eta" or text is None:
            return None
        return parse_eta(text, self.at)

    def _availability(self, text: str | None) -> Availability | None:
        if self.field != "availability" or text is None:
            return None
        return WORD_AVAILABILITY.get(text, Availability.UNKNOWN)


def classify_eta(before: str, after: str, today: dt.date) -> tuple[ChangeKind, Shift | None]:
    """A re-wording of the same window, or a real move of it (read with ``parse_eta``)."""
    old, new = parse_eta(before, today), parse_eta(after, today)
    if old.same_window(new):
        return ChangeKind.REWORDED, None
    return ChangeKind.ETA, compare_eta(old, new).shift


def net_changes(
    changes: Iterable[GroundTruthChange], since: dt.date | None = None
) -> list[GroundTruthChange]:
    """What a reader who looked at ``since`` and looks again now would see as changed.

    Changes on or before ``since`` are left out; several changes of one field fold into one
    (a flap back and forth is no change); a re-wording is left out. Rows that appeared after
    ``since`` are a baseline (one ``APPEARED`` entry, none of their changes); rows that vanished
    are one ``VANISHED`` entry. The result is sorted by sku, then field.
    """
    first: dict[tuple[str, FieldName], GroundTruthChange] = {}
    last: dict[tuple[str, FieldName], GroundTruthChange] = {}
    for change in changes:
        if since is not None and change.at <= since:
            continue
        key = (change.sku, change.field)
        first.setdefault(key, change)
        last[key] = change
    out: list[GroundTruthChange] = []
    for key, start in first.items():
        end = last[key]
        sku, field = key
        if field == "item":
            if (start.before is None) != (end.after is None):  # appeared and stayed, or vanished
                out.append(end.model_copy(update={"before": start.before}))
            continue
        item = last.get((sku, "item"))
        if item is not None:
            continue  # appeared or vanished in between: its fields are a baseline, or gone
        merged = _fold(start, end)
        if merged is not None:
            out.append(merged)
    return sorted(out, key=lambda c: (c.sku, c.field))


def _fold(start: GroundTruthChange, end: GroundTruthChange) -> GroundTruthChange | None:
    before, after = start.before or "", end.after or ""
    if start.field == "availability":
        if before == after:
            return None
        return end.model_copy(update={"before": start.before})
    kind, shift = classify_eta(before, after, end.at)
    if kind is ChangeKind.REWORDED:
        return None
    return end.model_copy(update={"before": start.before, "kind": kind, "shift": shift})
