"""What the availability table shows: rows of the scenario, seen through the fault switches."""

import math
from collections.abc import Iterator
from dataclasses import dataclass

from etawatch.demo.domain.columns import Column, layout
from etawatch.demo.domain.faults import FaultSwitches
from etawatch.demo.domain.items import PortalItem
from etawatch.demo.domain.scenario import Scenario


@dataclass(frozen=True, slots=True)
class TablePage:
    page: int
    pages: int
    total: int
    columns: list[str]
    rows: list[list[str]]

    def as_json(self) -> dict[str, object]:
        return {
            "page": self.page,
            "pages": self.pages,
            "total": self.total,
            "columns": self.columns,
            "rows": self.rows,
        }


def cells(item: PortalItem, columns: list[Column], switches: FaultSwitches) -> list[str]:
    availability = item.availability_text
    if switches.unknown_availability and item.sku in switches.unknown_availability:
        availability = switches.unknown_availability[item.sku]
    eta = item.eta_text
    if switches.garbled_eta and item.sku in switches.garbled_eta:
        eta = switches.garbled_eta[item.sku]
    values = {
        Column.SKU: item.sku,
        Column.NAME: item.name,
        Column.MANUFACTURER: item.manufacturer,
        Column.AVAILABILITY: availability,
        Column.ETA: eta,
        Column.ALLOCATED: str(item.allocated),
    }
    return [values[c] for c in columns]


def shown_total(scenario: Scenario, switches: FaultSwitches) -> int:
    total = scenario.count()
    return total if switches.truncate_to is None else min(total, switches.truncate_to)


def page_count(total: int, page_size: int) -> int:
    return max(1, math.ceil(total / page_size))


def table_page(
    scenario: Scenario,
    switches: FaultSwitches,
    page: int,
    page_size: int,
    *,
    with_rows: bool = True,
) -> TablePage | None:
    """Page ``page`` (from 1) of the table, or ``None`` when there is no such page.

    ``with_rows=False`` gives the frame only (headers, counts), as script mode's HTML needs.
    """
    total = shown_total(scenario, switches)
    pages = page_count(total, page_size)
    if not 1 <= page <= pages:
        return None
    offset = (page - 1) * page_size
    shown = layout(switches.rename_column, switches.reorder_columns, switches.hide_columns)
    columns = [c for c, _ in shown]
    items = scenario.page(offset, min(page_size, total - offset)) if with_rows else []
    return TablePage(
        page=page,
        pages=pages,
        total=total,
        columns=[header for _, header in shown],
        rows=[cells(item, columns, switches) for item in items],
    )


def export_rows(scenario: Scenario, switches: FaultSwitches) -> Iterator[list[str]]:
    """The header row, then every row of the catalogue (not paged)."""
    shown = layout(switches.rename_column, switches.reorder_columns, switches.hide_columns)
    columns = [c for c, _ in shown]
    yield [header for _, header in shown]
    items = scenario.page(0, shown_total(scenario, switches))
    for item in items:
        yield cells(item, columns, switches)
