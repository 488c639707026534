"""Reading a whole table page in one go: the page's HTML parsed with lxml, never cell by cell."""

import datetime as dt
import functools
import re
from dataclasses import dataclass

import lxml.html
from lxml.cssselect import CSSSelector

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import Profile, TableSection
from etawatch.scraper.domain.table import TablePage


@dataclass(frozen=True)
class ParsedPage:
    page: TablePage
    next_href: str | None


def _text(element: lxml.html.HtmlElement) -> str:
    return re.sub(r"\s+", " ", element.text_content()).strip()


@functools.lru_cache(maxsize=256)
def _compiled(selector: str) -> CSSSelector:
    return CSSSelector(selector)


def _select(root: lxml.html.HtmlElement, selector: str) -> list[lxml.html.HtmlElement]:
    return _compiled(selector)(root)  # type: ignore[no-any-return]


def parse_table_page(
    html: str, section: TableSection, number: int, read_at: dt.datetime
) -> ParsedPage:
    """Header texts, rows of cell texts, the portal's total and the next page's link."""
    root = lxml.html.document_fromstring(html)
    tables = _select(root, section.table)
    if not tables:
        raise ScrapeFailure(
            FailureReason.LAYOUT_CHANGED, f"page {number}: no table matches {section.table!r}"
        )
    table = tables[0]
    headers = tuple(_text(cell) for cell in _select(table, section.header_cells))
    rows = tuple(
        tuple(_text(cell) for cell in _select(row, section.cells))
        for row in _select(table, section.rows)
    )
    next_href = None
    if section.next_link:
        links = _select(root, section.next_link)
        next_href = links[0].get("href") if links else None
    page = TablePage(
        number=number,
        headers=headers,
        rows=rows,
        read_at=read_at,
        declared_total=_declared_total(root, section),
    )
    return ParsedPage(page=page, next_href=next_href or None)


def _declared_total(root: lxml.html.HtmlElement, section: TableSection) -> int | None:
    if not section.total:
        return None
    found = _select(root, section.total)
    if not found:
        return None
    digits = re.sub(r"[^\d]", "", _text(found[0]))
    return int(digits) if digits else None


def html_page_kind(html: str, profile: Profile) -> str:
    """What an HTML answer is (for the export download): maintenance, login, table, or other."""
    root = lxml.html.document_fromstring(html or "<html></html>")
    if profile.pages.maintenance and _select(root, profile.pages.maintenance):
        return "maintenance"
    if _select(root, profile.login.form):
        return "login"
    title = root.findtext(".//title") or ""
    if profile.login.title_contains and profile.login.title_contains in title:
        return "login"
    if _select(root, profile.table.table):
        return "table"
    return "other"
