"""Reading a table page from its HTML and the export from its CSV, each in one go."""

import pytest
from etawatch_testing.scraper import HEADERS, NOW, availability_html, row, server_profile

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.csv_table import parse_csv_export
from etawatch.scraper.adapters.html_table import html_page_kind, parse_table_page
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import ExportSection

PROFILE = server_profile()


def test_a_page_gives_headers_rows_total_and_the_next_link() -> None:
    rows = [
        row(1),
        row(2, "Skladem", ""),
        ("FK-000003", "Rem  \n 1/7", "Alter", "Zpožděno", "03/2027", "0"),
    ]
    parsed = parse_table_page(
        availability_html(rows, number=2, pages=3, total=57), PROFILE.table, 2, NOW
    )
    assert parsed.page.headers == HEADERS
    assert parsed.page.rows[0] == row(1)
    assert parsed.page.rows[2][1] == "Rem 1/7"  # whitespace inside a cell is normalised
    assert len(parsed.page.rows) == 3
    assert parsed.page.declared_total == 57
    assert parsed.next_href == "/availability?page=3"


def test_the_last_page_has_no_next_link() -> None:
    parsed = parse_table_page(availability_html([row(1)], number=3, pages=3), PROFILE.table, 3, NOW)
    assert parsed.next_href is None


def test_a_page_without_the_table_is_a_layout_change() -> None:
    with pytest.raises(ScrapeFailure) as failure:
        parse_table_page("<html><body><p>Nic</p></body></html>", PROFILE.table, 4, NOW)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED
    assert "page 4" in failure.value.message


def test_html_answers_are_told_apart() -> None:
    maintenance = '<html><title>Údržba</title><div id="maintenance">Probíhá údržba</div></html>'
    login = '<html><title>Přihlášení | X B2B</title><form id="signin-form"></form></html>'
    assert html_page_kind(maintenance, PROFILE) == "maintenance"
    assert html_page_kind(login, PROFILE) == "login"
    assert html_page_kind(availability_html([row(1)]), PROFILE) == "table"
    assert html_page_kind("<html><p>?</p></html>", PROFILE) == "other"


EXPORT = ExportSection(path="/export.csv")


def test_the_csv_export_with_bom_semicolons_and_crlf() -> None:
    lines = [
        ";".join(HEADERS),
        ";".join(row(1)),
        '"FK-000002";"Figure; with semicolon";x;Skladem;;1',
    ]
    body = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    page = parse_csv_export(body, EXPORT, NOW, declared_total=2)
    assert page.headers == HEADERS  # the BOM is not part of the first header
    assert page.rows[0] == row(1)
    assert page.rows[1][1] == "Figure; with semicolon"
    assert page.declared_total == 2


def test_an_export_in_another_encoding_is_refused() -> None:
    body = ";".join(HEADERS).encode("cp1250")
    with pytest.raises(ScrapeFailure, match="not utf-8-sig") as failure:
        parse_csv_export(body, EXPORT, NOW)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED


def test_an_empty_export_is_refused() -> None:
    with pytest.raises(ScrapeFailure, match="empty"):
        parse_csv_export(b"\xef\xbb\xbf", EXPORT, NOW)
