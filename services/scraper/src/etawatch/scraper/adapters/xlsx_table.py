"""Reading the portal's XLSX export into the same shape as a table page.

A supplier's workbook often has a title (merged across the columns), a date or a blank line above
the header, so the header is not taken by position: it is the first of the sheet's first rows that
holds the most of the profile's header texts. The header and the rows are then handed on as texts,
exactly as from the CSV export, and go through the same column matching and validation.
"""

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import ColumnsSection, ExportSection, normalise_text
from etawatch.scraper.domain.table import TablePage

HEADER_SEARCH_ROWS = 20
"""How far down the sheet the header row is looked for."""

_UNREADABLE = (
    zipfile.BadZipFile,
    InvalidFileException,
    ParseError,
    KeyError,
    ValueError,
    OSError,
    EOFError,
)
"""What openpyxl raises for a file that is not a workbook, or a truncated or damaged one."""


def cell_text(value: object) -> str:
    """A cell as the supplier's text: numbers without a spurious ``.0``, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def header_row(rows: list[tuple[str, ...]], columns: ColumnsSection) -> int | None:
    """The index of the row holding the most of the expected header texts; None if none does."""
    wanted = {normalise_text(t) for texts in columns.expected().values() for t in texts}
    best, best_hits = None, 0
    for number, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len(wanted & {normalise_text(cell) for cell in row})
        if hits > best_hits:
            best, best_hits = number, hits
    return best


def _texts(values: Iterable[Iterable[object]]) -> Iterator[tuple[str, ...]]:
    for row in values:
        cells = tuple(cell_text(value) for value in row)
        if any(cells):
            yield cells


def _sheet_rows(body: bytes, section: ExportSection) -> list[tuple[str, ...]]:
    """Every non-empty row of the sheet as texts; any damage to the file is a failure."""
    try:
        workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        try:
            if section.sheet is not None and section.sheet not in workbook.sheetnames:
                raise ScrapeFailure(
                    FailureReason.LAYOUT_CHANGED,
                    f"the export has no sheet {section.sheet!r}; "
                    f"it has {', '.join(map(repr, workbook.sheetnames)) or 'none'}",
                )
            sheet = workbook[section.sheet or workbook.sheetnames[0]]
            return list(_texts(sheet.iter_rows(values_only=True)))
        finally:
            workbook.close()
    except _UNREADABLE as exc:
        raise ScrapeFailure(
            FailureReason.LAYOUT_CHANGED, f"the export is not a readable XLSX workbook: {exc!r}"
        ) from exc


def parse_xlsx_export(
    body: bytes,
    section: ExportSection,
    columns: ColumnsSection,
    read_at: dt.datetime,
    declared_total: int | None = None,
) -> TablePage:
    """The whole export as one page: the header row found by its texts, then every row below."""
    rows = _sheet_rows(body, section)
    if not rows:
        raise ScrapeFailure(FailureReason.LAYOUT_CHANGED, "the export is empty, not even a header")
    found = header_row(rows, columns)
    if found is None:
        raise ScrapeFailure(
            FailureReason.LAYOUT_CHANGED,
            f"none of the export's first {HEADER_SEARCH_ROWS} rows holds a known header; "
            f"the first row is: {', '.join(repr(c) for c in rows[0] if c)}",
        )
    return TablePage(
        number=1,
        headers=rows[found],
        rows=tuple(rows[found + 1 :]),
        read_at=read_at,
        declared_total=declared_total,
    )
