"""What a table page shows, through the fault switches."""

import datetime as dt

from etawatch.demo.application.table import export_rows, table_page
from etawatch.demo.domain.columns import HEADERS
from etawatch.demo.domain.faults import FaultSwitches
from etawatch.demo.domain.scenario import Scenario
from etawatch.demo.entrypoints.table_routes import pager

SCENARIO = Scenario(53, 3, dt.date(2026, 12, 1))


def test_pages_cover_the_catalogue_once() -> None:
    pages = [table_page(SCENARIO, FaultSwitches(), n, 10) for n in range(1, 7)]
    assert all(p is not None and p.pages == 6 and p.total == 53 for p in pages)
    skus = [row[0] for p in pages if p is not None for row in p.rows]
    assert skus == [i.sku for i in SCENARIO.catalogue()]
    assert table_page(SCENARIO, FaultSwitches(), 7, 10) is None
    assert table_page(SCENARIO, FaultSwitches(), 0, 10) is None


def test_truncation_shortens_table_total_and_export() -> None:
    switches = FaultSwitches(truncate_to=12)
    first = table_page(SCENARIO, switches, 2, 10)
    assert first is not None and (first.total, first.pages, len(first.rows)) == (12, 2, 2)
    assert len(list(export_rows(SCENARIO, switches))) == 13
    empty = table_page(SCENARIO, FaultSwitches(truncate_to=0), 1, 10)
    assert empty is not None and empty.rows == [] and empty.pages == 1


def test_replaced_words_and_columns() -> None:
    sku = SCENARIO.catalogue()[4].sku
    switches = FaultSwitches(
        unknown_availability={sku: "Na dotaz"},
        garbled_eta={sku: "@@"},
        rename_column={"Dostupnost": "Stav skladu"},
        reorder_columns=["Předpokládané naskladnění", "Stav skladu"],
    )
    page = table_page(SCENARIO, switches, 1, 10)
    assert page is not None
    assert page.columns[:3] == ["Předpokládané naskladnění", "Stav skladu", "Kód zboží"]
    assert page.rows[4][:3] == ["@@", "Na dotaz", sku]
    assert page.rows[3][1] != "Na dotaz"
    header = next(export_rows(SCENARIO, FaultSwitches()))
    assert header == list(HEADERS.values())


def test_the_pager_links_the_ends_and_the_pages_near() -> None:
    assert pager(1, 1) == [1]
    assert pager(1, 4) == [1, 2, 3, 4]
    assert pager(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
