"""Rows of the read models: tables described once, and the port the projections write through.

A row is a dict of its key columns, its filter columns and ``doc``, the JSON document the API
serves. Projections only ``get``, ``put`` and look up ``keys_where``; whether the rows live in
memory (``as_of``, tests) or in SQL (the views) is not their concern.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...] = ()
    """Columns stored beside the document, for filters and ordering."""
    ints: frozenset[str] = frozenset()
    """Columns holding integers (every other column is text)."""
    indexes: tuple[tuple[str, ...], ...] = ()
    doc: bool = True

    @property
    def all_columns(self) -> tuple[str, ...]:
        return (*self.key, *self.columns, *(("doc",) if self.doc else ()))

    def key_of(self, row: Row) -> Key:
        if len(self.key) == 1:
            return (row[self.key[0]],)
        return tuple([row[c] for c in self.key])


class Rows(Protocol):
    def get(self, table: Table, key: Key) -> Row | None: ...

    def put(self, table: Table, row: Row) -> None: ...

    def keys_where(self, table: Table, **equal: Any) -> list[Key]: ...


class MemoryRows:
    """Every row in memory: for answers ``as_of`` a moment, and for tests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = {}

    def get(self, table: Table, key: Key) -> Row | None:
        return self.tables.get(table.name, {}).get(key)

    def put(self, table: Table, row: Row) -> None:
        self.tables.setdefault(table.name, {})[table.key_of(row)] = row

    def keys_where(self, table: Table, **equal: Any) -> list[Key]:
        return [
            key
            for key, row in self.tables.get(table.name, {}).items()
            if all(row.get(c) == v for c, v in equal.items())
        ]

    def rows(self, table: Table) -> Iterator[Row]:
        yield from self.tables.get(table.name, {}).values()


def sorted_rows(table: Table, rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=table.key_of)
