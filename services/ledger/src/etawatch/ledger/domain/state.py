"""Compact in-memory state: what the ledger must know to compare an observation, and no more.

The ledger holds one ``ItemState`` per known item (well under a KiB each) instead of full
aggregates; the aggregates and their events stay the record in the store.
"""

import datetime as dt
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from etawatch.contracts.eta import ETA, Precision
from etawatch.contracts.messages import ItemAvailabilityObserved

EtaKey = tuple[str, int, int, str]
"""An ETA as ``(raw, earliest ordinal, latest ordinal, precision)``; ordinals are 0 if unknown."""


def eta_key(eta: ETA) -> EtaKey:
    return (
        sys.intern(eta.raw),
        eta.earliest.toordinal() if eta.earliest else 0,
        eta.latest.toordinal() if eta.latest else 0,
        sys.intern(eta.precision.value),
    )


def eta_key_from_dict(data: dict[str, Any]) -> EtaKey:
    """The key of a stored ``EtaDict`` (validated when it was stored, so read directly)."""
    earliest, latest = data.get("earliest"), data.get("latest")
    return (
        sys.intern(data["raw"]),
        dt.date.fromisoformat(earliest).toordinal() if earliest else 0,
        dt.date.fromisoformat(latest).toordinal() if latest else 0,
        sys.intern(data.get("precision") or "unknown"),
    )


def eta_dict(key: EtaKey) -> dict[str, Any]:
    """The ``EtaDict`` of a key (what ``eta_to_dict(eta_of(key))`` gives, without pydantic)."""
    raw, earliest, latest, precision = key
    return {
        "raw": raw,
        "earliest": dt.date.fromordinal(earliest).isoformat() if earliest else None,
        "latest": dt.date.fromordinal(latest).isoformat() if latest else None,
        "precision": precision,
    }


def eta_of(key: EtaKey) -> ETA:
    raw, earliest, latest, precision = key
    return ETA(
        raw=raw,
        earliest=dt.date.fromordinal(earliest) if earliest else None,
        latest=dt.date.fromordinal(latest) if latest else None,
        precision=Precision(precision),
    )


def same_window(a: EtaKey, b: EtaKey) -> bool:
    """Same dates, whatever the wording (the raw text is not compared)."""
    return a[1] == b[1] and a[2] == b[2] and (a[3] == "unknown") == (b[3] == "unknown")


@dataclass(slots=True)
class ItemState:
    """The current state of one supplier item, as the ledger compares against it."""

    supplier: str
    sku: str
    name: str
    version: int
    availability: str
    availability_raw: str
    eta: EtaKey
    observed_at: float
    """Timestamp of the newest observation recorded for the item."""
    missing: bool = False
    unseen_runs: int = 0
    """Consecutive compared complete runs without the item."""


@dataclass(frozen=True, slots=True)
class Row:
    """One staged observation, compact: what a run said about one SKU."""

    sku: str
    name: str
    availability: str
    availability_raw: str
    eta: EtaKey
    observed_at: float

    @classmethod
    def of(cls, message: ItemAvailabilityObserved) -> "Row":
        return cls(
            sku=message.sku,
            name=message.name,
            availability=sys.intern(message.availability.value),
            availability_raw=sys.intern(message.availability_raw),
            eta=eta_key(message.eta),
            observed_at=message.observed_at.timestamp(),
        )

    @property
    def observed_datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.observed_at, dt.UTC)


@dataclass(slots=True)
class RunLogState:
    """What one partition's run log says: its version, the runs decided, the newest compared."""

    supplier: str
    partition: int
    version: int
    decided: set[uuid.UUID] = field(default_factory=set)
    last_started_at: float = float("-inf")
