"""What the robot read from the portal, before any meaning is given to it: texts in cells."""

import datetime as dt
from dataclasses import dataclass

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import ColumnsSection, normalise_text


@dataclass(frozen=True, slots=True)
class TablePage:
    """One page of the table (or the whole export) as header texts and rows of cell texts."""

    number: int
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    read_at: dt.datetime
    declared_total: int | None = None
    """The portal's own count of items, when it shows one."""


@dataclass(frozen=True, slots=True)
class PortalRead:
    """Everything one run read, in order; ``logins`` counts the logins it needed."""

    pages: tuple[TablePage, ...]
    logins: int = 1
    session_reused: bool = False

    @property
    def declared_total(self) -> int | None:
        totals = [p.declared_total for p in self.pages if p.declared_total is not None]
        return totals[-1] if totals else None


def resolve_columns(headers: tuple[str, ...], columns: ColumnsSection) -> dict[str, int]:
    """Field name -> cell index, found by header text. A missing column means the layout changed."""
    index = {normalise_text(h): i for i, h in enumerate(headers)}
    found: dict[str, int] = {}
    missing: list[str] = []
    for field, texts in columns.expected().items():
        position = next((index[t] for t in map(normalise_text, texts) if t in index), None)
        if position is None:
            missing.append(" / ".join(texts))
        else:
            found[field] = position
    if missing:
        raise ScrapeFailure(
            FailureReason.LAYOUT_CHANGED,
            f"column(s) not found: {', '.join(repr(m) for m in missing)}; "
            f"the table has: {', '.join(repr(h) for h in headers) or 'no headers'}",
        )
    return found
