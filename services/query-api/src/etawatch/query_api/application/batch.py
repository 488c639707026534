"""The rows one batch of events touches, loaded once, changed in memory, written at the end."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from etawatch.query_api.application.ports import ViewStore
from etawatch.query_api.domain.rows import Key, Row, Table

_ABSENT: Row = {}
PrefixKey = tuple[str, tuple[str, ...], Key]


@dataclass
class Known:
    """What a projector knows of its view after its own last commit.

    ``complete`` means the view was empty when this projector started it and every row since
    went through here: a row not in ``rows`` does not exist, and ``by_prefix`` lists every key.
    """

    rows: dict[str, dict[Key, Row]] = field(default_factory=dict)
    by_prefix: dict[PrefixKey, list[Key]] = field(default_factory=dict)
    complete: bool = False

    def size(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class BatchRows:
    """``Rows`` over a ``ViewStore``: reads through, writes back only what changed.

    ``keys_where`` by the leading key columns (an item's order lines) also sees the rows put
    earlier, which the store may not hold yet.
    """

    def __init__(self, store: ViewStore, known: Known | None = None) -> None:
        self._store = store
        self.known = known or Known()
        self._tables: dict[str, Table] = {}
        self._dirty: dict[str, dict[Key, Row]] = {}

    def get(self, table: Table, key: Key) -> Row | None:
        cached = self.known.rows.setdefault(table.name, {})
        row = cached.get(key)
        if row is None:
            if self.known.complete:
                return None
            row = self._store.load(table, key) or _ABSENT
            cached[key] = row
        return None if row is _ABSENT else row

    def put(self, table: Table, row: Row) -> None:
        key = table.key_of(row)
        self._tables[table.name] = table
        cached = self.known.rows.setdefault(table.name, {})
        if len(table.key) > 1 and cached.get(key, _ABSENT) is _ABSENT:
            prefix = (table.name, table.key[:-1], key[:-1])
            self.known.by_prefix.setdefault(prefix, []).append(key)
        cached[key] = row
        self._dirty.setdefault(table.name, {})[key] = row

    def keys_where(self, table: Table, **equal: Any) -> list[Key]:
        columns = tuple(c for c in table.key if c in equal)
        prefixed = len(columns) == len(equal) and columns == table.key[: len(columns)]
        added = (
            self.known.by_prefix.get((table.name, columns, tuple(equal[c] for c in columns)), [])
            if prefixed
            else []
        )
        if self.known.complete and prefixed:
            return list(added)
        found = self._store.keys_where(table, equal)
        if added:
            seen = set(found)
            found = found + [k for k in added if k not in seen]
        return found

    def size(self) -> int:
        return self.known.size()

    def dirty(self) -> Mapping[Table, Sequence[Row]]:
        return {self._tables[name]: list(rows.values()) for name, rows in self._dirty.items()}
