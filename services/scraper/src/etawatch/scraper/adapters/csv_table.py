"""Reading the portal's CSV export into the same shape as a table page."""

import csv
import datetime as dt
import io

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import ExportSection
from etawatch.scraper.domain.table import TablePage


def parse_csv_export(
    body: bytes, section: ExportSection, read_at: dt.datetime, declared_total: int | None = None
) -> TablePage:
    """The whole export as one page: the header row, then every row of cells."""
    try:
        text = body.decode(section.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ScrapeFailure(
            FailureReason.LAYOUT_CHANGED, f"the export is not {section.encoding}: {exc}"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=section.delimiter)
    try:
        records = [tuple(cell.strip() for cell in record) for record in reader if record]
    except csv.Error as exc:
        raise ScrapeFailure(FailureReason.LAYOUT_CHANGED, f"the export is not CSV: {exc}") from exc
    if not records:
        raise ScrapeFailure(FailureReason.LAYOUT_CHANGED, "the export is empty, not even a header")
    return TablePage(
        number=1,
        headers=records[0],
        rows=tuple(records[1:]),
        read_at=read_at,
        declared_total=declared_total,
    )
