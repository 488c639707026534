"""The columns of the availability table, and how the fault switches rearrange them."""

from collections.abc import Mapping, Sequence
from enum import StrEnum


class Column(StrEnum):
    SKU = "sku"
    NAME = "name"
    MANUFACTURER = "manufacturer"
    AVAILABILITY = "availability"
    ETA = "eta"
    ALLOCATED = "allocated"


HEADERS: dict[Column, str] = {
    Column.SKU: "Kód zboží",
    Column.NAME: "Název",
    Column.MANUFACTURER: "Výrobce",
    Column.AVAILABILITY: "Dostupnost",
    Column.ETA: "Předpokládané naskladnění",
    Column.ALLOCATED: "Přiděleno",
}
"""Header texts in the default display order."""


def find_column(header: str, rename: Mapping[str, str]) -> Column | None:
    """The column a header text names: its default text, or the text it was renamed to."""
    for column, text in HEADERS.items():
        if header in (text, rename.get(text)):
            return column
    return None


def layout(
    rename: Mapping[str, str],
    order: Sequence[str] | None,
    hidden: Sequence[str] = (),
) -> list[tuple[Column, str]]:
    """The columns in display order with the header text each shows.

    ``order`` lists header texts (default or renamed); columns it leaves out follow in their
    default order. ``hidden`` columns are not shown at all. Unknown names raise ``ValueError``.
    """
    chosen: list[Column] = []
    for header in order or ():
        column = find_column(header, rename)
        if column is None:
            raise ValueError(f"no column is headed {header!r}; headers: {list(HEADERS.values())}")
        if column not in chosen:
            chosen.append(column)
    chosen += [c for c in HEADERS if c not in chosen]
    gone: set[Column] = set()
    for header in hidden:
        column = find_column(header, rename)
        if column is None:
            raise ValueError(f"no column is headed {header!r}; headers: {list(HEADERS.values())}")
        gone.add(column)
    return [(c, rename.get(HEADERS[c], HEADERS[c])) for c in chosen if c not in gone]
