"""One row's cells turned into what the supplier says about one item."""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import ETA, Precision, is_unreadable, parse_eta
from etawatch.scraper.domain.profile import EtaSection, Profile


@dataclass(frozen=True, slots=True)
class ScrapedRow:
    sku: str
    name: str
    manufacturer: str | None
    availability: Availability
    availability_raw: str
    eta: ETA
    quantity_allocated: int | None
    observed_at: dt.datetime

    @property
    def unknown_availability(self) -> bool:
        return self.availability is Availability.UNKNOWN

    @property
    def unreadable_eta(self) -> bool:
        return is_unreadable(self.eta)


def read_eta(raw: str, section: EtaSection, today: dt.date) -> ETA:
    """The profile's own formats first (the supplier knows its dates best), then ``parse_eta``."""
    text = raw.strip()
    for extra in section.extra_formats:
        try:
            parsed = dt.datetime.strptime(text, extra.format).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
        if extra.precision == "day":
            return ETA(raw=raw, earliest=parsed, latest=parsed, precision=Precision.DAY)
        if extra.precision == "month":
            last = calendar.monthrange(parsed.year, parsed.month)[1]
            return ETA(
                raw=raw,
                earliest=parsed.replace(day=1),
                latest=parsed.replace(day=last),
                precision=Precision.MONTH,
            )
        return ETA(
            raw=raw,
            earliest=dt.date(parsed.year, 1, 1),
            latest=dt.date(parsed.year, 12, 31),
            precision=Precision.YEAR,
        )
    return parse_eta(raw, today)


def read_quantity(raw: str) -> int | None:
    """``"12"``, ``"12 ks"`` -> 12; anything else -> None (the contract's field is optional)."""
    match = re.fullmatch(r"\s*(\d{1,9})(?:\s*ks\.?|\s*pcs\.?)?\s*", raw)
    return int(match.group(1)) if match else None


def read_row(
    cells: tuple[str, ...],
    columns: dict[str, int],
    profile: Profile,
    observed_at: dt.datetime,
) -> ScrapedRow:
    """Cells of one row, read through the column positions found by header text."""

    def cell(field: str) -> str | None:
        position = columns.get(field)
        if position is None:
            return None
        return cells[position].strip() if position < len(cells) else ""

    availability_raw = cell("availability") or ""
    quantity = cell("quantity_allocated")
    return ScrapedRow(
        sku=cell("sku") or "",
        name=cell("name") or "",
        manufacturer=cell("manufacturer") or None,
        availability=profile.availability_of(availability_raw),
        availability_raw=availability_raw,
        eta=read_eta(cell("eta") or "", profile.eta, observed_at.date()),
        quantity_allocated=read_quantity(quantity) if quantity is not None else None,
        observed_at=observed_at,
    )
