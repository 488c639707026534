# ruff: noqa: S608 - table and column names come from the Table constants, never from input
"""The views in SQL (SQLite or PostgreSQL), with the eventsourcing library's tracking records.

``SqlViewStore`` writes a projection's rows and its tracking record (the library's
``SQLiteTrackingRecorder`` / ``PostgresTrackingRecorder``, one row per projection) in one
transaction. The SQL is the same for both databases except for the parameter marker.
"""

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import orjson
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from etawatch.query_api.application.ports import PositionTaken
from etawatch.query_api.domain.rows import Changes, Key, Row, Statement, Table, ddl

SQLITE_CACHE = "PRAGMA cache_size = -131072"
"""128 MiB of page cache per connection (SQLite's default is 2 MiB): an item's change updates
its open lines and their orders, rows spread over the whole file; with the default cache most of
those updates read their pages back from the operating system. Set per transaction (it is a
setting of the connection, cheap to repeat) because the library's pool opens the connections."""


def dumps(doc: Any) -> str:
    return orjson.dumps(doc).decode()


class SqlViewStore:
    """``ViewStore`` over the library's tracking recorder for SQLite or PostgreSQL."""

    def __init__(self, recorder: TrackingRecorder, tracking_prefix: str) -> None:
        if isinstance(recorder, SQLiteTrackingRecorder):
            self.ph = "?"
            self.tracking_table = "tracking"
        elif isinstance(recorder, PostgresTrackingRecorder):
            self.ph = "%s"
            self.tracking_table = f"{recorder.datastore.schema}.{recorder.tracking_table_name}"
        else:
            raise TypeError(f"views need SQLite or PostgreSQL, not {type(recorder).__name__}")
        self.recorder = recorder
        self.tracking_prefix = tracking_prefix
        self._sql: dict[tuple[str, str], str] = {}
        self._reading: Any = None

    # --- plumbing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        datastore = cast(Any, self.recorder).datastore
        with datastore.transaction(commit=commit) as cursor:
            if self.ph == "?":
                cursor.execute(SQLITE_CACHE)
            yield cursor

    @contextmanager
    def session(self) -> Iterator[None]:
        """Serve every ``load`` of one batch from one read transaction.

        SQLite only: there it saves a pool round per lookup. PostgreSQL ends transactions left
        idle (the library's ``idle_in_transaction_session_timeout``), so it reads as it goes.
        """
        if self._reading is not None or self.ph != "?":
            yield
            return
        with self.transaction(commit=False) as cursor:
            self._reading = cursor
            try:
                yield
            finally:
                self._reading = None

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        if self._reading is not None:
            yield self._reading
        else:
            with self.transaction(commit=False) as cursor:
                yield cursor

    def tracking_name(self, projection: str) -> str:
        return f"{self.tracking_prefix}.{projection}"

    def _statement(self, kind: str, table: Table) -> str:
        cached = self._sql.get((kind, table.name))
        if cached is not None:
            return cached
        ph = self.ph
        if kind == "load":
            where = " AND ".join(f"{c} = {ph}" for c in table.key)
            sql = f"SELECT {', '.join(table.all_columns)} FROM {table.name} WHERE {where}"
        else:
            cols = table.all_columns
            rest = [c for c in cols if c not in table.key]
            action = (
                "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in rest)
                if rest
                else "DO NOTHING"
            )
            sql = (
                f"INSERT INTO {table.name} ({', '.join(cols)}) "
                f"VALUES ({', '.join([ph] * len(cols))}) "
                f"ON CONFLICT ({', '.join(table.key)}) {action}"
            )
        self._sql[(kind, table.name)] = sql
        return sql

    def _sql_of(self, statement: Statement) -> str:
        """The statement with this database's parameter marker."""
        if self.ph == "?":
            return statement.sql
        sql = self._sql.get(("run", statement.sql))
        if sql is None:
            sql = self._sql[("run", statement.sql)] = statement.sql.replace("?", self.ph)
        return sql

    # --- ViewStore ------------------------------------------------------------------------

    def ensure(self, tables: Sequence[Table]) -> None:
        with self.transaction(commit=True) as cursor:
            for table in tables:
                for statement in ddl(table):
                    cursor.execute(statement)

    def position(self, projection: str) -> int:
        return self.recorder.max_tracking_id(self.tracking_name(projection)) or 0

    def load(self, table: Table, key: Key) -> Row | None:
        with self._reader() as cursor:
            cursor.execute(self._statement("load", table), key)
            found = cursor.fetchone()
        if found is None:
            return None
        row = {c: found[c] for c in table.all_columns}
        if table.doc:
            row["doc"] = orjson.loads(row["doc"])
        return row

    def commit(
        self, projection: str, rows: Mapping[Table, Sequence[Row]], changes: Changes, position: int
    ) -> None:
        try:
            with self.transaction(commit=True) as cursor:
                for table, table_rows in rows.items():
                    if not table_rows:
                        continue
                    cursor.executemany(
                        self._statement("upsert", table),
                        [self._values(table, row) for row in table_rows],
                    )
                for statement, params in changes:
                    cursor.executemany(self._sql_of(statement), params)
                tracking = Tracking(self.tracking_name(projection), position)
                cast(Any, self.recorder)._insert_tracking(cursor, tracking)
        except IntegrityError as exc:
            raise PositionTaken(str(exc)) from exc

    @staticmethod
    def _values(table: Table, row: Row) -> tuple[Any, ...]:
        values = [row[c] for c in (*table.key, *table.columns)]
        if table.doc:
            values.append(dumps(row["doc"]))
        return tuple(values)

    def reset(self, projection: str, tables: Sequence[Table]) -> None:
        with self.transaction(commit=True) as cursor:
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {table.name}")
            cursor.execute(
                f"DELETE FROM {self.tracking_table} WHERE application_name = {self.ph}",
                (self.tracking_name(projection),),
            )
            for table in tables:  # indexes come back with ``ensure``, built once at the end
                for statement in ddl(table, indexes=False):
                    cursor.execute(statement)

    def checksum(self, tables: Sequence[Table]) -> str:
        digest = hashlib.sha256()
        with self.transaction(commit=False) as cursor:
            for table in tables:
                digest.update(table.name.encode())
                cursor.execute(
                    f"SELECT {', '.join(table.all_columns)} FROM {table.name} "
                    f"ORDER BY {', '.join(table.key)}"
                )
                for found in cursor.fetchall():
                    values = [found[c] for c in table.all_columns]
                    digest.update(dumps(values).encode())
        return digest.hexdigest()
