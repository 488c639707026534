"""The rows one batch of events touches, loaded once, changed in memory, written at the end."""

from collections.abc import Mapping, Sequence
from typing import Any

from etawatch.query_api.application.ports import ViewStore
from etawatch.query_api.domain.rows import Key, Row, Table

_ABSENT: Row = {}
PrefixKey = tuple[str, tuple[str, ...], Key]


class BatchRows:
    """``Rows`` over a ``ViewStore``: reads through, writes back only what changed.

    ``keys_where`` by the leading key columns (an item's order lines) also sees the rows put
    earlier in the same batch, which the store does not hold yet.
    """

    def __init__(self, store: ViewStore) -> None:
        self._store = store
        self._rows: dict[str, dict[Key, Row]] = {}
        self._tables: dict[str, Table] = {}
        self._dirty: dict[str, dict[Key, Row]] = {}
        self._added: dict[PrefixKey, list[Key]] = {}

    def get(self, table: Table, key: Key) -> Row | None:
        cached = self._rows.setdefault(table.name, {})
        row = cached.get(key)
        if row is None:
            row = self._store.load(table, key) or _ABSENT
            cached[key] = row
        return None if row is _ABSENT else row

    def put(self, table: Table, row: Row) -> None:
        key = table.key_of(row)
        self._tables[table.name] = table
        dirty = self._dirty.setdefault(table.name, {})
        if len(table.key) > 1 and key not in dirty:
            columns = table.key[:-1]
            self._added.setdefault((table.name, columns, key[:-1]), []).append(key)
        self._rows.setdefault(table.name, {})[key] = row
        dirty[key] = row

    def keys_where(self, table: Table, **equal: Any) -> list[Key]:
        found = self._store.keys_where(table, equal)
        columns = tuple(c for c in table.key if c in equal)
        if len(columns) == len(equal):
            added = self._added.get((table.name, columns, tuple(equal[c] for c in columns)))
            if added:
                seen = set(found)
                found = found + [k for k in added if k not in seen]
        return found

    def dirty(self) -> Mapping[Table, Sequence[Row]]:
        return {self._tables[name]: list(rows.values()) for name, rows in self._dirty.items()}
