"""Rows of the read models: tables described once, and the port the projections write through.

Two kinds of tables. A document table holds rows of key columns, filter columns and ``doc``, the
JSON document the API serves; projections ``get`` and ``put`` them. A set-based table (``doc``
false) is only changed by ``run``: a SQL statement (``?`` markers) that may touch many rows at
once, such as every open order line of an item. Statements run in the order they were given,
after the batch's documents are written, so a set-based table is never also ``put``.

``MemoryRows`` keeps documents in dicts and set-based tables in an in-memory SQLite database:
for answers ``as_of`` a moment, and for tests.
"""

import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

Row = dict[str, Any]
Key = tuple[Any, ...]
Params = tuple[Any, ...]


def storable(*texts: str | None) -> bool:
    """Whether a view could hold these texts as keys or text columns. PostgreSQL's text holds
    no NUL character (inside a document one is written escaped), so a key with one is in no
    view of either store; asked for, it would fail the statement (and every request read
    together with it) instead of finding nothing; written, it would stop the views."""
    return not any(text is not None and "\x00" in text for text in texts)


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...] = ()
    """Columns stored beside the document, for filters and ordering (all of a set-based table's
    columns but its key)."""
    ints: frozenset[str] = frozenset()
    """Columns holding integers (every other column is text)."""
    indexes: tuple[tuple[str, ...], ...] = ()
    """Indexes for the API's questions: a rebuild creates them once, at its end."""
    lookups: tuple[tuple[str, ...], ...] = ()
    """Indexes the statements need while the table is written: created with it."""
    doc: bool = True
    key_of: Callable[[Row], Key] = field(init=False, repr=False, compare=False)
    """A row's key (made once per table: it runs for every row a projection writes)."""

    def __post_init__(self) -> None:
        key_of: Callable[[Row], Key]
        if len(self.key) == 1:
            name = self.key[0]

            def key_of(row: Row) -> Key:
                return (row[name],)

        else:
            key_of = cast(Callable[[Row], Key], operator.itemgetter(*self.key))
        object.__setattr__(self, "key_of", key_of)

    @property
    def all_columns(self) -> tuple[str, ...]:
        return (*self.key, *self.columns, *(("doc",) if self.doc else ()))


@dataclass(frozen=True, eq=False)
class Statement:
    """A set-based change. ``batched``: a plain insert into one table, which may be sent with
    the other inserts of its batch (inserts into different tables commute).

    Each statement is one constant, equal only to itself (hashed by identity: cheap)."""

    sql: str
    tables: tuple[Table, ...]
    batched: bool = False


Changes = Sequence[tuple[Statement, Sequence[Params]]]
"""Set-based changes in the order they are to run, each statement with its parameter rows."""


def ddl(
    table: Table, *, indexes: bool = True, temporary: bool = False, schema: str | None = None
) -> list[str]:
    """``CREATE`` statements of ``table`` (the same for SQLite and PostgreSQL).

    ``temporary``: a table private to the connection, which hides a stored one of the same name
    from that connection's unqualified statements (both databases look in their temporary
    schema first); its indexes go with it. ``schema``: only the table, created in that schema
    (``main`` on SQLite, the current schema on PostgreSQL) even where a temporary one hides it;
    its indexes come from ``ddl(table)`` once nothing hides it (the two databases qualify an
    index differently).
    """
    columns = [
        f"{c} {'BIGINT' if c in table.ints else 'TEXT'}" + (" NOT NULL" if c in table.key else "")
        for c in (*table.key, *table.columns)
    ]
    if table.doc:
        columns.append("doc TEXT NOT NULL")
    name = f"{schema}.{table.name}" if schema else table.name
    statements = [
        f"CREATE {'TEMPORARY ' if temporary else ''}TABLE IF NOT EXISTS {name} "
        f"({', '.join(columns)}, PRIMARY KEY ({', '.join(table.key)}))"
    ]
    if schema:
        return statements
    for index in (*table.lookups, *(table.indexes if indexes else ())):
        index_name = f"ix_{table.name}_{'_'.join(index)}"
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {index_name} ON {table.name} ({', '.join(index)})"
        )
    return statements


class Rows(Protocol):
    def get(self, table: Table, key: Key) -> Row | None: ...

    def put(self, table: Table, row: Row) -> None: ...

    def run(self, statement: Statement, params: Params) -> None: ...

    def prefetch(self, table: Table, keys: Iterable[Key]) -> None:
        """The rows of these keys will be asked for: read those not at hand, together."""
        ...


class MemoryRows:
    """Every row in memory: for answers ``as_of`` a moment, and for tests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = {}
        self._db: sqlite3.Connection | None = None
        self._created: set[str] = set()

    def get(self, table: Table, key: Key) -> Row | None:
        return self.tables.get(table.name, {}).get(key)

    def put(self, table: Table, row: Row) -> None:
        self.tables.setdefault(table.name, {})[table.key_of(row)] = row

    def prefetch(self, table: Table, keys: Iterable[Key]) -> None:
        """Every row is at hand."""

    def run(self, statement: Statement, params: Params) -> None:
        self.run_many(statement, [params])

    def run_many(self, statement: Statement, params: Sequence[Params]) -> None:
        db = self._database(statement.tables)
        db.executemany(statement.sql, params)

    def select(
        self, tables: Sequence[Table], sql: str, params: Params = ()
    ) -> list[tuple[Any, ...]]:
        """Read set-based ``tables`` (empty where no statement has touched them)."""
        return self._database(tables).execute(sql, params).fetchall()

    def rows(self, table: Table) -> Iterator[Row]:
        if table.doc:
            yield from self.tables.get(table.name, {}).values()
            return
        if table.name not in self._created:
            return
        columns = table.all_columns
        sql = f"SELECT {', '.join(columns)} FROM {table.name}"  # noqa: S608
        for found in self.select((table,), sql):
            yield dict(zip(columns, found, strict=True))

    def drop(self, table: Table) -> None:
        self.tables.pop(table.name, None)
        if table.name in self._created:
            self._database(()).execute(f"DROP TABLE {table.name}")
            self._created.discard(table.name)

    def _database(self, tables: Iterable[Table]) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(":memory:", isolation_level=None)
        for table in tables:
            if table.name not in self._created:
                for statement in ddl(table):
                    self._db.execute(statement)
                self._created.add(table.name)
        return self._db


def sorted_rows(table: Table, rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=table.key_of)
