"""A row of the supplier's table: the portal's state of one item, and the snapshot it serves."""

import datetime as dt
from dataclasses import dataclass

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import ETA, Precision, parse_eta
from etawatch.demo.domain.wording import AVAILABILITY_WORDS


@dataclass(frozen=True, slots=True)
class PortalItem:
    """One row as the portal shows it now (before any fault switch alters what is served)."""

    sku: str
    name: str
    manufacturer: str
    availability: Availability
    eta_text: str
    allocated: int
    as_of: dt.date
    """The scenario date of this snapshot."""

    @property
    def availability_text(self) -> str:
        return AVAILABILITY_WORDS[self.availability]

    @property
    def eta(self) -> ETA:
        """The window the ETA text names (read with ``parse_eta``)."""
        return parse_eta(self.eta_text, self.as_of)


@dataclass(slots=True)
class ItemState:
    """The scenario's working state of one item: what it shows, and the date behind it."""

    sku: str
    name: str
    manufacturer: str
    availability: Availability
    precision: Precision
    """How precisely the supplier writes this item's date (``UNKNOWN``: it writes ``TBA``)."""
    target: dt.date
    """When the item will really arrive; the ETA text names a window around it."""
    eta_text: str
    allocated: int
    flaps: bool = False
    """One of the few rows that flap back and forth."""

    def snapshot(self, today: dt.date) -> PortalItem:
        return PortalItem(
            sku=self.sku,
            name=self.name,
            manufacturer=self.manufacturer,
            availability=self.availability,
            eta_text=self.eta_text,
            allocated=self.allocated,
            as_of=today,
        )
