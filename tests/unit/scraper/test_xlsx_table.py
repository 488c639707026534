"""Reading the XLSX export: the header row found by its texts, then the same validation as CSV.

Workbooks are written here with openpyxl, as a supplier's system would write them.
"""

import datetime as dt
import io
from collections.abc import Sequence

import pytest
from etawatch_testing.scraper import HEADERS, NOW, row, server_profile
from openpyxl import Workbook

from etawatch.contracts.availability import Availability
from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.xlsx_table import HEADER_SEARCH_ROWS, cell_text, parse_xlsx_export
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import ExportFormat, ExportSection
from etawatch.scraper.domain.table import PortalRead
from etawatch.scraper.domain.validation import validate

PROFILE = server_profile()
EXPORT = ExportSection(path="/export.xlsx", format=ExportFormat.XLSX)


def workbook(
    rows: Sequence[Sequence[object]], *, title: str | None = None, sheet: str = "List1"
) -> bytes:
    """An XLSX file; with ``title``, a merged title row and a blank row above ``rows``."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    if title is not None:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
        ws.append([])
    for cells in rows:
        ws.append(list(cells))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parse(body: bytes, section: ExportSection = EXPORT, total: int | None = None) -> PortalRead:
    return PortalRead(pages=(parse_xlsx_export(body, section, PROFILE.columns, NOW, total),))


def test_the_header_row_is_found_below_a_merged_title_and_a_blank_row() -> None:
    body = workbook([HEADERS, row(1), row(2, "Skladem", "")], title="Dostupnost zboží")
    read = parse(body, total=2)
    (page,) = read.pages
    assert page.headers == HEADERS
    assert page.rows == (row(1), row(2, "Skladem", ""))
    assert page.declared_total == 2
    validated = validate(read, PROFILE, None)
    assert [r.sku for r in validated.rows] == ["FK-000001", "FK-000002"]
    assert validated.rows[1].availability is Availability.IN_STOCK


def test_columns_are_found_by_header_text_in_any_order() -> None:
    order = [5, 3, 0, 4, 1, 2]
    headers = [HEADERS[i] for i in order]
    rows = [[row(n)[i] for i in order] for n in (1, 2)]
    validated = validate(parse(workbook([headers, *rows], title="Export")), PROFILE, None)
    first = validated.rows[0]
    assert (first.sku, first.name, first.availability, first.eta.raw) == (
        "FK-000001",
        "Nendoroid Figure 1",
        Availability.PRE_ORDER,
        "Q2 2027",
    )
    assert first.quantity_allocated == 3


def test_numbers_and_dates_typed_by_the_supplier_become_texts() -> None:
    """A quantity typed as a number and an ETA typed as an Excel date, not as text."""
    excel_date = dt.datetime(2027, 3, 15)  # noqa: DTZ001 - Excel dates have no time zone
    cells = [*row(1)[:4], excel_date, 3]
    validated = validate(parse(workbook([HEADERS, cells])), PROFILE, None)
    (first,) = validated.rows
    assert first.eta.raw == "2027-03-15" and first.eta.earliest == dt.date(2027, 3, 15)
    assert first.quantity_allocated == 3
    assert (cell_text(3.0), cell_text(2.5), cell_text(None)) == ("3", "2.5", "")


def test_an_unknown_availability_word_is_published_as_unknown_and_counted() -> None:
    """Bad input: the word 'Brzy' that the profile does not know; as with CSV, not a failure."""
    body = workbook([HEADERS, row(1), row(2, "Brzy")], title="Dostupnost")
    validated = validate(parse(body), PROFILE, None)
    assert validated.rows[1].availability is Availability.UNKNOWN
    assert validated.rows[1].availability_raw == "Brzy"
    assert validated.report.unknown_words == {"Brzy": 1}


def test_a_missing_column_fails_the_run_and_names_it() -> None:
    """Bad input: the 'Dostupnost' header renamed to 'Stav skladu'."""
    headers = ["Stav skladu" if h == "Dostupnost" else h for h in HEADERS]
    body = workbook([headers, row(1)], title="Dostupnost")
    with pytest.raises(ScrapeFailure) as failure:
        validate(parse(body), PROFILE, None)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED
    assert "'Dostupnost'" in failure.value.message


def test_a_sheet_without_any_known_header_is_a_layout_change() -> None:
    """Bad input: a sheet whose first rows hold none of the profile's header texts."""
    body = workbook([["Objednávky"], ["Číslo", "Datum"], ["1", "2026-12-01"]])
    with pytest.raises(ScrapeFailure, match="holds a known header") as failure:
        parse(body)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED
    assert "'Objednávky'" in failure.value.message


def test_a_header_further_down_than_the_search_is_not_taken() -> None:
    """Bad input: the header row below HEADER_SEARCH_ROWS rows of notes."""
    notes = [[f"poznámka {n}"] for n in range(HEADER_SEARCH_ROWS)]
    with pytest.raises(ScrapeFailure, match="holds a known header"):
        parse(workbook([*notes, HEADERS, row(1)]))


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"", "an empty file"),
        (b"Kod;Nazev\r\nFK-1;x\r\n", "a CSV sent under the XLSX address"),
        (b"PK\x03\x04garbage", "a zip header with nothing after it"),
        (None, "a real workbook cut in half"),
    ],
)
def test_a_corrupt_or_truncated_file_is_a_layout_change(body: bytes | None, what: str) -> None:
    """Bad input: each of the bodies above; none raises anything but a ScrapeFailure."""
    if body is None:
        whole = workbook([HEADERS, *(row(n) for n in range(1, 200))], title="Dostupnost")
        body = whole[: len(whole) // 2]
    with pytest.raises(ScrapeFailure, match="not a readable XLSX") as failure:
        parse(body)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED, what


def test_an_empty_sheet_is_refused() -> None:
    """Bad input: a valid workbook whose only sheet has no cells (or only blank ones)."""
    with pytest.raises(ScrapeFailure, match="empty, not even a header") as failure:
        parse(workbook([[], [None, ""]]))
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED


def test_a_named_sheet_is_read_and_a_missing_one_is_a_layout_change() -> None:
    """Bad input: the profile names the sheet 'Sklad', the workbook has only 'Dostupnost'."""
    body = workbook([HEADERS, row(1)], sheet="Dostupnost")
    named = ExportSection(path="/export.xlsx", format=ExportFormat.XLSX, sheet="Dostupnost")
    assert parse(body, named).pages[0].rows == (row(1),)
    missing = ExportSection(path="/export.xlsx", format=ExportFormat.XLSX, sheet="Sklad")
    with pytest.raises(ScrapeFailure, match="no sheet 'Sklad'") as failure:
        parse(body, missing)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED
