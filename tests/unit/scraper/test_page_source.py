"""Reading a table page whose document is replaced while ChromeDriver reads its source."""

import datetime as dt
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException

from etawatch.scraper.adapters.pages import TablePage
from etawatch.scraper.adapters.profiles import load_profile

HTML = """<html><head><title>Dostupnost zboží</title></head><body>
<p class="summary">Celkem položek: <span id="total-items">1</span></p>
<table id="availability-table"><thead><tr><th>Kód zboží</th><th>Název</th><th>Výrobce</th>
<th>Dostupnost</th><th>Předpokládané naskladnění</th><th>Přiděleno</th></tr></thead>
<tbody><tr><td>FK-000001</td><td>figma Link</td><td>Max Factory</td><td>Skladem</td><td></td>
<td>3</td></tr></tbody></table></body></html>"""
REPLACED = WebDriverException(
    'unknown error: unhandled inspector error: {"code":-32000,'
    '"message":"Node with given id does not belong to the document"}'
)
TABLE_STATE = {"kind": "table", "status": 200, "ready": "complete", "table": True}


class FakeDriver:
    def __init__(self, failures: list[Exception], state: dict[str, Any]) -> None:
        self.failures = failures
        self.state = state
        self.reads = 0

    @property
    def page_source(self) -> str:
        self.reads += 1
        if self.failures:
            raise self.failures.pop(0)
        return HTML

    def execute_script(self, script: str, *args: Any) -> dict[str, Any]:
        return self.state


def page(driver: FakeDriver) -> TablePage:
    return TablePage(driver, load_profile("simulated-server"))  # type: ignore[arg-type]


def test_a_replaced_document_is_read_again() -> None:
    driver = FakeDriver([REPLACED], TABLE_STATE)
    parsed = page(driver).read(1, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    assert driver.reads == 2
    assert parsed.page.rows[0][0] == "FK-000001"


def test_other_browser_errors_are_not_hidden() -> None:
    driver = FakeDriver([WebDriverException("chrome not reachable")], TABLE_STATE)
    with pytest.raises(WebDriverException, match="chrome not reachable"):
        page(driver).read(1, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    assert driver.reads == 1


def test_a_document_replaced_by_the_login_page_is_not_read_as_a_table() -> None:
    driver = FakeDriver([REPLACED], {**TABLE_STATE, "kind": "login"})
    with pytest.raises(WebDriverException, match="does not belong"):
        page(driver).read(1, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))


def test_it_gives_up_after_a_bounded_number_of_reads() -> None:
    driver = FakeDriver([REPLACED, REPLACED, REPLACED, REPLACED], TABLE_STATE)
    with pytest.raises(WebDriverException):
        page(driver).read(1, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    assert driver.reads == 3
