"""Validation of a whole read before anything of it is published.

The rule (DESIGN.md: a failed or partial scrape is never a change) is applied here in its
strictest form: **a read that fails validation publishes no observations at all**. The run ends
as ``ScrapeRunFailed`` with the reason (``layout_changed`` for a missing column or rows without
an item code, ``truncated`` for fewer rows than the portal's own count or a drop of more than
``max_drop_share`` against the last complete run). Only a read that passes is published, and it
always ends as ``ScrapeRunCompleted(complete=True)``; this scraper never sends ``complete=False``.

What does not fail a run, but is counted and reported in ``ScrapeRunCompleted``: availability
words the profile does not know (published as ``unknown`` with the raw word kept), ETAs that
could not be read (raw text kept, ``is_unreadable``), and duplicate item codes (the first row of
an item is published, later ones are dropped and counted).
"""

from collections import Counter
from dataclasses import dataclass, field

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import Profile
from etawatch.scraper.domain.rows import ScrapedRow, read_row
from etawatch.scraper.domain.table import PortalRead, resolve_columns

SAMPLE_SIZE = 20


@dataclass(frozen=True)
class Report:
    items_seen: int
    pages: int
    rows_read: int
    unknown_availability: int
    unreadable_eta: int
    duplicate_skus: int
    previous_items_seen: int | None
    unknown_words: dict[str, int] = field(default_factory=dict)
    unreadable_samples: tuple[str, ...] = ()
    duplicate_samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Validated:
    rows: tuple[ScrapedRow, ...]
    report: Report


def validate(
    read: PortalRead,
    profile: Profile,
    previous_items_seen: int | None,
    *,
    accept_drop: bool = False,
) -> Validated:
    """Read every row and check the whole; ``ScrapeFailure`` when it must not be published."""
    rows: list[ScrapedRow] = []
    for page in read.pages:
        columns = resolve_columns(page.headers, profile.columns)
        rows.extend(read_row(cells, columns, profile, page.read_at) for cells in page.rows)

    blank = sum(1 for row in rows if not row.sku)
    if blank:
        raise ScrapeFailure(
            FailureReason.LAYOUT_CHANGED, f"{blank} of {len(rows)} rows have no item code"
        )
    unique, duplicates = _first_of_each(rows)
    _check_counts(read, profile, unique, previous_items_seen, accept_drop=accept_drop)

    words = Counter(row.availability_raw for row in unique if row.unknown_availability)
    unreadable = [row.eta.raw for row in unique if row.unreadable_eta]
    report = Report(
        items_seen=len(unique),
        pages=len(read.pages),
        rows_read=len(rows),
        unknown_availability=sum(words.values()),
        unreadable_eta=len(unreadable),
        duplicate_skus=len(duplicates),
        previous_items_seen=previous_items_seen,
        unknown_words=dict(words),
        unreadable_samples=tuple(dict.fromkeys(unreadable))[:SAMPLE_SIZE],
        duplicate_samples=tuple(dict.fromkeys(duplicates))[:SAMPLE_SIZE],
    )
    return Validated(rows=tuple(unique), report=report)


def _first_of_each(rows: list[ScrapedRow]) -> tuple[list[ScrapedRow], list[str]]:
    seen: set[str] = set()
    unique: list[ScrapedRow] = []
    duplicates: list[str] = []
    for row in rows:
        if row.sku in seen:
            duplicates.append(row.sku)
        else:
            seen.add(row.sku)
            unique.append(row)
    return unique, duplicates


def _check_counts(
    read: PortalRead,
    profile: Profile,
    unique: list[ScrapedRow],
    previous: int | None,
    *,
    accept_drop: bool,
) -> None:
    count = len(unique)
    if count == 0:
        raise ScrapeFailure(FailureReason.TRUNCATED, "the table has no rows")
    declared = read.declared_total
    if declared is not None and count < declared:
        raise ScrapeFailure(
            FailureReason.TRUNCATED,
            f"read {count} items but the portal counts {declared}",
        )
    limit = profile.validation.max_drop_share
    if previous and not accept_drop and count < previous * (1 - limit):
        drop = 1 - count / previous
        raise ScrapeFailure(
            FailureReason.TRUNCATED,
            f"{count} items, {drop:.0%} fewer than the {previous} of the last complete run "
            f"(more than the {limit:.0%} allowed)",
        )
