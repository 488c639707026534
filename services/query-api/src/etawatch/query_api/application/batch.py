"""The rows one batch of events touches, loaded once, changed in memory, written at the end."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from etawatch.query_api.application.ports import Target
from etawatch.query_api.domain.rows import Key, Params, Row, Statement, Table

_ABSENT: Row = {}


@dataclass
class Known:
    """What a projector knows of its document tables after its own last commit.

    ``complete`` means the view was empty when this projector started it and every row since
    went through here: a row not in ``rows`` does not exist.
    """

    rows: dict[str, dict[Key, Row]] = field(default_factory=dict)
    complete: bool = False

    def size(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class BatchRows:
    """``Rows`` over a ``Target``: reads through, writes back only what changed.

    Set-based statements are kept in order; consecutive runs of one statement go together, and
    the inserts a statement marks ``batched`` wait, per statement, until a statement that is not
    batched comes, so that each goes to the database as one ``executemany``.
    """

    def __init__(
        self, store: Target, known: Known | None = None, read_ahead: int | None = None
    ) -> None:
        """``read_ahead``: at most this many rows are read by ``prefetch`` (a batch that may
        commit once it has changed that many rows reads no more before it is asked for them)."""
        self._store = store
        self.known = known or Known()
        self._read_ahead = read_ahead
        self._tables: dict[str, Table] = {}
        self._known: dict[str, dict[Key, Row]] = {}
        """``known.rows`` of each table met so far (looked up once per batch)."""
        self._dirty: dict[str, dict[Key, Row]] = {}
        self._changes: list[tuple[Statement, list[Params]]] = []
        self._waiting: dict[Statement, list[Params]] = {}

    def get(self, table: Table, key: Key) -> Row | None:
        try:
            cached = self._known[table.name]
        except KeyError:
            cached = self._known[table.name] = self.known.rows.setdefault(table.name, {})
        row = cached.get(key)
        if row is None:
            if self.known.complete:
                return None
            row = self._store.load(table, key) or _ABSENT
            cached[key] = row
        return None if row is _ABSENT else row

    def prefetch(self, table: Table, keys: Iterable[Key]) -> None:
        if self.known.complete:
            return
        try:
            cached = self._known[table.name]
        except KeyError:
            cached = self._known[table.name] = self.known.rows.setdefault(table.name, {})
        missing = [key for key in dict.fromkeys(keys) if key not in cached]
        if self._read_ahead is not None:
            missing = missing[: self._read_ahead]
            self._read_ahead -= len(missing)
        if not missing:
            return
        found = self._store.load_many(table, missing)
        for key in missing:
            cached[key] = found.get(key, _ABSENT)

    def put(self, table: Table, row: Row) -> None:
        key = table.key_of(row)
        try:
            self._dirty[table.name][key] = row
        except KeyError:
            self._tables[table.name] = table
            self._dirty[table.name] = {key: row}
        try:
            self._known[table.name][key] = row
        except KeyError:
            self._known[table.name] = self.known.rows.setdefault(table.name, {})
            self._known[table.name][key] = row

    def run(self, statement: Statement, params: Params) -> None:
        if statement.batched:
            waiting = self._waiting.get(statement)
            if waiting is None:
                waiting = self._waiting[statement] = []
            waiting.append(params)
            return
        self._flush()
        changes = self._changes
        if changes and changes[-1][0] is statement:
            changes[-1][1].append(params)
        else:
            changes.append((statement, [params]))

    def _flush(self) -> None:
        if self._waiting:
            self._changes.extend(self._waiting.items())
            self._waiting = {}

    def size(self) -> int:
        return self.known.size()

    def changed(self) -> int:
        """Rows ``put`` since the batch began, each counted once."""
        return sum(len(rows) for rows in self._dirty.values())

    def dirty(self) -> Mapping[Table, Mapping[Key, Row]]:
        return {self._tables[name]: rows for name, rows in self._dirty.items()}

    def changes(self) -> list[tuple[Statement, list[Params]]]:
        self._flush()
        return self._changes
