# ruff: noqa: S608 - table and column names come from the Table constants, never from input
"""The views in SQL (SQLite or PostgreSQL), with the eventsourcing library's tracking records.

``SqlViewStore`` writes a projection's rows and its tracking record (the library's
``SQLiteTrackingRecorder`` / ``PostgresTrackingRecorder``, one row per projection) in one
transaction. The SQL is the same for both databases except for the parameter marker.
"""

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from operator import itemgetter
from typing import Any, cast

import orjson
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from etawatch.query_api.application.ports import PositionTaken
from etawatch.query_api.domain.rows import Changes, Key, Row, Statement, Table, ddl
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

SQLITE_CACHE = "PRAGMA cache_size = -131072"
"""128 MiB of page cache per connection (SQLite's default is 2 MiB): an item's change updates
its open lines and their orders, rows spread over the whole file; with the default cache most of
those updates read their pages back from the operating system. Set per transaction (it is a
setting of the connection, cheap to repeat) because the library's pool opens the connections."""


GENERATIONS = "qa_generations"
"""One row per projection, moved on by each rebuild that swaps the projection's tables in."""
GENERATIONS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {GENERATIONS} "
    "(projection TEXT NOT NULL PRIMARY KEY, generation BIGINT NOT NULL)"
)


SQLITE_STAGING = ("PRAGMA temp_store = FILE", "PRAGMA temp.cache_size = -1048576")
"""A rebuild's copies are temporary tables, which SQLite keeps in a file of their own with a
page cache of their own (2 MiB by default, whatever ``cache_size`` says for the stored tables):
up to 1 GiB of it, taken only as the copies grow, keeps them in memory for a one-off job; a
larger rebuild spills to the temporary file rather than fail."""


POSTGRES_STAGING = "SET temp_buffers = '1GB'"
"""PostgreSQL keeps temporary tables in the session's own buffers (8 MB by default), settable
until the session first uses one; taken only as the copies grow."""


def _move_generations(cursor: Any, ph: str, projections: Sequence[str]) -> None:
    cursor.executemany(
        f"INSERT INTO {GENERATIONS} (projection, generation) VALUES ({ph}, 1) "
        f"ON CONFLICT (projection) DO UPDATE SET generation = {GENERATIONS}.generation + 1",
        [(name,) for name in projections],
    )


def dumps(doc: Any) -> str:
    return orjson.dumps(doc).decode()


LOAD_PARAMETERS = 900
"""Parameters per query of ``load_many`` (SQLite before 3.32 takes 999 at most)."""


def load_many_sql(table: Table, ph: str, n: int) -> str:
    """The query of ``load_many`` for ``n`` keys, ``ph`` the database's parameter marker.

    A key of several columns is joined with the keys (named ``column1``... by both databases),
    each found by the primary key: SQLite reads the whole table for ``(a, b) IN (VALUES ...)``.
    """
    if len(table.key) == 1:
        select = f"SELECT {', '.join(table.all_columns)} FROM {table.name}"
        return f"{select} WHERE {table.key[0]} IN ({', '.join([ph] * n)})"
    one = f"({', '.join([ph] * len(table.key))})"
    on = " AND ".join(f"{table.name}.{c} = v.column{i}" for i, c in enumerate(table.key, 1))
    return (
        f"SELECT {', '.join(f'{table.name}.{c}' for c in table.all_columns)} "
        f"FROM (VALUES {', '.join([one] * n)}) AS v JOIN {table.name} ON {on}"
    )


CHUNK = 5000
"""Rows per piece of a checksum. The digest depends on it: rows read from the database and rows
held in memory are cut the same way."""


@functools.cache
def values_of(table: Table) -> Callable[[Row], tuple[Any, ...]]:
    """A row's values as stored: key, columns, and the document as JSON text (one getter, made
    once per table: the rebuild calls it for every row)."""
    get = itemgetter(*table.key, *table.columns)
    if len(table.key) + len(table.columns) == 1:
        if table.doc:
            return lambda row: (get(row), dumps(row["doc"]))
        return lambda row: (get(row),)
    if table.doc:
        return lambda row: (*get(row), dumps(row["doc"]))
    return cast(Callable[[Row], tuple[Any, ...]], get)


def digest(tables: Iterable[tuple[Table, Iterable[Sequence[tuple[Any, ...]]]]]) -> str:
    """SHA-256 of each table's name and its rows in key order, a chunk at a time (each chunk a
    JSON array of the rows' values as stored)."""
    sha = hashlib.sha256()
    for table, chunks in tables:
        sha.update(table.name.encode())
        for chunk in chunks:
            sha.update(orjson.dumps(chunk))
    return sha.hexdigest()


def held_chunks(
    table: Table, rows: Mapping[Key, Row], made: dict[Key, tuple[Any, ...]] | None = None
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows held in memory as the database would give them back, in key order, ``CHUNK`` at a
    time. Python orders keys as SQLite's default collation and PostgreSQL's ``C`` one do, as
    long as a column holds one type (integers in ``Table.ints``, text elsewhere).

    ``made``: the values of rows made before (and not changed since), taken from it as they
    are; those made now are added to it."""
    values = values_of(table)
    keys = sorted(rows)
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        if made is None:
            yield [values(rows[key]) for key in part]
            continue
        chunk = []
        for key in part:
            found = made.get(key)
            if found is None:
                found = made[key] = values(rows[key])
            chunk.append(found)
        yield chunk


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

    def ensure(self, projection: str, tables: Sequence[Table], retired: Sequence[str] = ()) -> bool:
        """Create the projection's tables where they are missing.

        A projection past its first event that lacks one of its tables was stored by a version
        that laid it out otherwise: it starts again from the first event (its tables dropped
        and made anew, the ``retired`` ones that version kept dropped, its position 0, its
        generation moved on, so a projector drops the rows it kept). Returns whether it did."""
        with self.transaction(commit=True) as cursor:
            cursor.execute(GENERATIONS_DDL)
            missing = [t.name for t in tables if not self._exists(cursor, t.name)]
            restart = bool(missing) and self._position(cursor, projection) > 0
            if restart:
                for name in (*(t.name for t in tables), *retired):
                    cursor.execute(f"DROP TABLE IF EXISTS {name}")
                cursor.execute(
                    f"DELETE FROM {self.tracking_table} WHERE application_name = {self.ph}",
                    (self.tracking_name(projection),),
                )
                _move_generations(cursor, self.ph, [projection])
            for table in tables:
                for statement in ddl(table):
                    cursor.execute(statement)
        if restart:
            log.warning(
                "the view was stored otherwise by an earlier version: projecting it again "
                "from the first event",
                projection=projection,
                missing=missing,
            )
        return restart

    def _exists(self, cursor: Any, table: str) -> bool:
        if self.ph == "?":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            )
        else:
            cursor.execute("SELECT to_regclass(%s) AS name", (table,))
        found = cursor.fetchone()
        return found is not None and found["name"] is not None

    def position(self, projection: str) -> int:
        return self.recorder.max_tracking_id(self.tracking_name(projection)) or 0

    def generation(self, projection: str) -> int:
        with self._reader() as cursor:
            return self._generation(cursor, projection)

    def _generation(self, cursor: Any, projection: str) -> int:
        cursor.execute(
            f"SELECT generation FROM {GENERATIONS} WHERE projection = {self.ph}", (projection,)
        )
        found = cursor.fetchone()
        return int(found["generation"]) if found is not None else 0

    def load(self, table: Table, key: Key) -> Row | None:
        with self._reader() as cursor:
            return self._load(cursor, table, key)

    def _load(self, cursor: Any, table: Table, key: Key) -> Row | None:
        cursor.execute(self._statement("load", table), key)
        found = cursor.fetchone()
        return None if found is None else self._row(table, found)

    @staticmethod
    def _row(table: Table, found: Any) -> Row:
        row = {c: found[c] for c in table.all_columns}
        if table.doc:
            row["doc"] = orjson.loads(row["doc"])
        return row

    def load_many(self, table: Table, keys: Sequence[Key]) -> dict[Key, Row]:
        with self._reader() as cursor:
            return self._load_many(cursor, table, keys)

    def _load_many(self, cursor: Any, table: Table, keys: Sequence[Key]) -> dict[Key, Row]:
        """As many keys a query as ``LOAD_PARAMETERS`` allows."""
        chunk = max(1, LOAD_PARAMETERS // len(table.key))
        found: dict[Key, Row] = {}
        for start in range(0, len(keys), chunk):
            part = keys[start : start + chunk]
            sql = load_many_sql(table, self.ph, len(part))
            cursor.execute(sql, [value for key in part for value in key])
            for record in cursor.fetchall():
                row = self._row(table, record)
                found[table.key_of(row)] = row
        return found

    def commit(
        self,
        projection: str,
        rows: Mapping[Table, Mapping[Key, Row]],
        changes: Changes,
        position: int,
        generation: int,
    ) -> None:
        try:
            with self.transaction(commit=True) as cursor:
                # The position first: on PostgreSQL its row is what a rebuild's swap waits for
                # before it locks the tables, so this commit never holds a table the swap has
                # locked while the swap waits for another (the two orders differ).
                tracking = Tracking(self.tracking_name(projection), position)
                cast(Any, self.recorder)._insert_tracking(cursor, tracking)
                self._write(cursor, rows, changes)
                # Read last, once this transaction holds the write locks a rebuild's swap takes.
                if self._generation(cursor, projection) != generation:
                    raise PositionTaken(f"{projection} was rebuilt since its rows were read")
        except IntegrityError as exc:
            raise PositionTaken(str(exc)) from exc

    def _write(
        self, cursor: Any, rows: Mapping[Table, Mapping[Key, Row]], changes: Changes
    ) -> None:
        for table, table_rows in rows.items():
            if not table_rows:
                continue
            cursor.executemany(
                self._statement("upsert", table),
                list(map(values_of(table), table_rows.values())),
            )
        for statement, params in changes:
            cursor.executemany(self._sql_of(statement), params)

    def checksum(self, tables: Sequence[Table]) -> str:
        with self.transaction(commit=False) as cursor:
            return self._checksum(cursor, tables)

    def position_and_checksum(self, projection: str, tables: Sequence[Table]) -> tuple[int, str]:
        with self.transaction(commit=False) as cursor:
            if self.ph != "?":  # one snapshot for both reads (SQLite's transactions are)
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return self._position(cursor, projection), self._checksum(cursor, tables)

    def _position(self, cursor: Any, projection: str) -> int:
        cursor.execute(
            f"SELECT MAX(notification_id) AS reached FROM {self.tracking_table} "
            f"WHERE application_name = {self.ph}",
            (self.tracking_name(projection),),
        )
        found = cursor.fetchone()
        return int(found["reached"] or 0) if found is not None else 0

    def _checksum(self, cursor: Any, tables: Sequence[Table]) -> str:
        return digest((table, self._stored_chunks(cursor, table)) for table in tables)

    def _stored_chunks(self, cursor: Any, table: Table) -> Iterator[list[tuple[Any, ...]]]:
        """The table's rows in key order, ``CHUNK`` at a time, as ``held_chunks`` gives them."""
        # The library's SQLite cursor wraps sqlite3's without its ``fetchmany``.
        cursor = getattr(cursor, "sqlite_cursor", cursor)
        cursor.execute(
            f"SELECT {', '.join(table.all_columns)} FROM {table.name} ORDER BY {self._order(table)}"
        )
        while chunk := cursor.fetchmany(CHUNK):
            # SQLite's rows are sequences, PostgreSQL's (from the library's pool) dicts.
            yield [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in chunk]

    def _order(self, table: Table) -> str:
        """The key columns, text compared by code point as Python compares ``str``: SQLite's
        default collation does; PostgreSQL's is the database's, maybe a language's."""
        if self.ph == "?":
            return ", ".join(table.key)
        return ", ".join(c if c in table.ints else f'{c} COLLATE "C"' for c in table.key)

    @contextmanager
    def stage(
        self, projections: Mapping[str, Sequence[Table]], *, cache_rows: int = 1_000_000
    ) -> Iterator["SqlStaged"]:
        datastore = cast(Any, self.recorder).datastore
        pinned = (
            datastore.get_connection(commit=False) if self.ph == "?" else datastore.get_connection()
        )
        with pinned as connection:
            staged = SqlStaged(self, connection, projections, cache_rows)
            staged.create()
            try:
                yield staged
            finally:
                staged.drop()


class SqlStaged:
    """A rebuild's copy of some views, held in memory while it fits, else in temporary tables.

    A rebuild writes most rows many times over (an item's row at each of its changes) and then
    copies them all once more into the live tables; in memory the last version of each row is
    all that is kept, and the swap writes each row once, straight into the live table. So a
    projection's rows stay in dicts (table name, then key, then the row object as committed:
    the projector keeps the same objects, so they cost little more) until it commits set-based
    changes, which need its tables in SQL, or until all the rows held pass ``cache_rows``. Then
    they *spill*: the projection's rows held (all projections', past the budget) go into its
    temporary tables, and from then on it commits there. A projection's set-based statements
    touch only its own tables, so the others stay in memory. A row held may be changed in place
    by the projector before it is committed again: nothing reads the copy in between.

    The temporary tables have the same names as the live ones, on one connection of the pool
    kept for the rebuild, made at the start whatever is held in memory (so that no statement on
    this connection can reach a live table by mistake). The projections' statements name their
    tables without a schema, so on this connection they write the copies; the live views and
    everyone else's connections never see them. Each ``commit`` that writes is a transaction of
    its own, which touches no stored table (no lock on the live views, nothing for the
    write-ahead log to sync)."""

    def __init__(
        self,
        store: SqlViewStore,
        connection: Any,
        projections: Mapping[str, Sequence[Table]],
        cache_rows: int = 1_000_000,
    ) -> None:
        self.store = store
        self.connection = connection
        self.positions = dict.fromkeys(projections, 0)
        self.projections = {name: tuple(tables) for name, tables in projections.items()}
        self.tables = [table for tables in projections.values() for table in tables]
        self.cache_rows = cache_rows
        self.held: dict[str, dict[Key, Row]] = {table.name: {} for table in self.tables}
        """Rows of the projections not spilled, by table name and key."""
        self.held_rows = 0
        self.made: dict[str, dict[Key, tuple[Any, ...]]] = {t.name: {} for t in self.tables}
        """The values of rows held as a checksum made them (the document's JSON, mostly), kept
        for the swap, which writes the same values; a row committed again is made again."""
        self.spilled: set[str] = set()
        """Projections whose rows are in the temporary tables."""
        self.sqlite = store.ph == "?"
        self._temp = "temp" if self.sqlite else "pg_temp"
        self._swapping: Any = None

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self._swapping is not None:  # ``behind`` commits inside the swap's transaction
            yield self._swapping
        elif self.sqlite:
            with self.connection.transaction(commit=True) as cursor:
                cursor.execute(SQLITE_CACHE)
                yield cursor
        else:
            with self.connection.transaction(), self.connection.cursor() as cursor:
                yield cursor

    def create(self) -> None:
        if self.sqlite:
            cursor = self.connection.cursor()
            for pragma in SQLITE_STAGING:  # outside a transaction, where they take effect
                cursor.execute(pragma)
        else:
            self.connection.execute(POSTGRES_STAGING)
        with self._transaction() as cursor:
            cursor.execute(GENERATIONS_DDL)  # views made before generations were kept
            for table in self.tables:
                cursor.execute(f"DROP TABLE IF EXISTS {self._temp}.{table.name}")
                for statement in ddl(table, indexes=False, temporary=True):
                    cursor.execute(statement)
            if not self.sqlite:
                # A statement this pooled connection prepared earlier names the live table (by
                # its id): forget them all, so the projections' statements find the copies.
                # psycopg clears its own cache of them when it sees this.
                cursor.execute("DEALLOCATE ALL")

    def drop(self) -> None:
        with self._transaction() as cursor:
            for table in self.tables:
                cursor.execute(f"DROP TABLE IF EXISTS {self._temp}.{table.name}")
        if self.sqlite:  # the connection goes back to the pool
            self.connection.cursor().execute("PRAGMA temp.cache_size = -2000")

    # --- Target ---------------------------------------------------------------------------

    def position(self, projection: str) -> int:
        return self.positions[projection]

    def generation(self, projection: str) -> int:  # noqa: ARG002 - one copy, one generation
        return 0

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()

    def load(self, table: Table, key: Key) -> Row | None:
        held = self.held.get(table.name)
        if held is not None:
            return held.get(key)
        with self._transaction() as cursor:
            return self.store._load(cursor, table, key)

    def load_many(self, table: Table, keys: Sequence[Key]) -> dict[Key, Row]:
        held = self.held.get(table.name)
        if held is not None:
            return {key: held[key] for key in keys if key in held}
        with self._transaction() as cursor:
            return self.store._load_many(cursor, table, keys)

    def commit(
        self,
        projection: str,
        rows: Mapping[Table, Mapping[Key, Row]],
        changes: Changes,
        position: int,
        generation: int,  # noqa: ARG002 - always 0 here: nothing rebuilds a staged copy
    ) -> None:
        if position <= self.positions[projection]:
            raise PositionTaken(f"{projection} is staged at {self.positions[projection]}")
        if projection in self.spilled:
            with self._transaction() as cursor:
                self.store._write(cursor, rows, changes)
        else:
            for table, table_rows in rows.items():
                held = self.held[table.name]
                before = len(held)
                held.update(table_rows)
                self.held_rows += len(held) - before
                made = self.made[table.name]
                if made:
                    for key in table_rows:
                        made.pop(key, None)
            if self.held_rows > self.cache_rows:
                spill = [name for name in self.projections if name not in self.spilled]
            else:
                spill = [projection] if changes else []
            if spill:
                with self._transaction() as cursor:
                    self._spill(cursor, spill)
                    self.store._write(cursor, {}, changes)
        self.positions[projection] = position

    def _spill(self, cursor: Any, names: Sequence[str]) -> None:
        """Write these projections' rows held into their temporary tables, and hold no more."""
        for name in names:
            tables = self.projections[name]
            self.store._write(cursor, {t: self.held[t.name] for t in tables}, ())
            for table in tables:
                self.held_rows -= len(self.held.pop(table.name))
                self.made[table.name].clear()
            self.spilled.add(name)

    def checksum(self, tables: Sequence[Table]) -> str:
        """The same digest as the database's of the same rows (``SqlViewStore.checksum``)."""
        with self._transaction() as cursor:
            return digest((table, self._chunks(cursor, table)) for table in tables)

    def _chunks(self, cursor: Any, table: Table) -> Iterator[list[tuple[Any, ...]]]:
        held = self.held.get(table.name)
        if held is not None:
            return held_chunks(table, held, self.made[table.name])
        return self.store._stored_chunks(cursor, table)

    # --- Staged ---------------------------------------------------------------------------

    def swap(self, behind: Callable[[int], None]) -> int:
        names = list(self.positions)
        with self._transaction() as cursor:
            self._swapping = cursor
            try:
                schema = self._live_schema(cursor)
                live = self._lock(cursor, names, schema)
                if live > min(self.positions.values(), default=0):
                    behind(live)  # may spill, so what is held is looked at after it
                self._write_live(cursor, schema)
                return self._track(cursor, names)
            finally:
                self._swapping = None

    def swap_checked(
        self, behind: Callable[[int], None], check: Mapping[str, Sequence[Table]]
    ) -> tuple[int, dict[str, str]]:
        """``swap``, and the checksums of ``check``'s tables as staged before it.

        On SQLite, with every row in memory and the live views no further than the copies, a
        thread takes the lock and drops the old live tables while this one makes the checksums
        (SQLite drops a table without the interpreter; writing rows takes it for each row, so
        they are written after, from the values the checksums made). The live projector then
        waits for this swap from before the checksums. On PostgreSQL, whose lock holds off the
        API's readers too, and once copies have spilled to temporary tables, the checksums go
        first, then ``swap``."""
        if not self.sqlite or self.spilled:
            sums = {name: self.checksum(tables) for name, tables in check.items()}
            return self.swap(behind), sums
        names = list(self.positions)
        with self._transaction() as cursor:
            self._swapping = cursor
            try:
                with ThreadPoolExecutor(1, thread_name_prefix="etawatch-swap") as writer:
                    try:
                        live = writer.submit(self._lock, cursor, names, "main").result()
                        if live > min(self.positions.values(), default=0):
                            sums = {name: self.checksum(tables) for name, tables in check.items()}
                            behind(live)  # the copies move on: their checksums were made first
                            self._write_live(cursor, "main")
                        else:
                            sums = self._write_while_checking(writer, cursor, check)
                    except BaseException:
                        writer.shutdown(cancel_futures=True)
                        raise
                return self._track(cursor, names), sums
            finally:
                self._swapping = None

    def _write_while_checking(
        self, writer: ThreadPoolExecutor, cursor: Any, check: Mapping[str, Sequence[Table]]
    ) -> dict[str, str]:
        """The old live tables are dropped (which SQLite does without the interpreter) while
        the checksums are made; then the rows are written, from the values the checksums made,
        and indexed."""
        dropped = [writer.submit(self._create_live, cursor, "main", t) for t in self.tables]
        sums = {name: self.checksum(tables) for name, tables in check.items()}
        for done in dropped:
            done.result()
        self._write_live(cursor, "main", created=True)
        return sums

    def _write_live(self, cursor: Any, schema: str, *, created: bool = False) -> None:
        """Each staged table into a new live table (made here unless ``created``), then its
        indexes."""
        for table in self.tables:
            if not created:
                self._create_live(cursor, schema, table)
            self._fill(cursor, schema, table)
            self._index_live(cursor, table)

    def _live_schema(self, cursor: Any) -> str:
        return "main" if self.sqlite else self._current_schema(cursor)

    def _create_live(self, cursor: Any, schema: str, table: Table) -> None:
        """The new live table, empty and without the API's indexes (built once on its rows)."""
        cursor.execute(f"DROP TABLE IF EXISTS {schema}.{table.name}")
        for statement in ddl(table, schema=schema):
            cursor.execute(statement)

    def _index_live(self, cursor: Any, table: Table) -> None:
        """Drop the copy, which hid the live table from this connection, and index the live
        one."""
        cursor.execute(f"DROP TABLE {self._temp}.{table.name}")
        for statement in ddl(table):
            cursor.execute(statement)

    def _track(self, cursor: Any, names: Sequence[str]) -> int:
        """The copies' position becomes the live views'; returns it."""
        store = self.store
        position = max(self.positions.values(), default=0)
        for name in names:
            tracking_name = store.tracking_name(name)
            cursor.execute(
                f"DELETE FROM {store.tracking_table} WHERE application_name = {store.ph}",
                (tracking_name,),
            )
            if position > 0:
                tracking = Tracking(tracking_name, position)
                cast(Any, store.recorder)._insert_tracking(cursor, tracking)
        return position

    def _fill(self, cursor: Any, schema: str, table: Table) -> None:
        """Write the staged rows into the new live table, in key order. Rows held go to
        PostgreSQL by ``COPY`` (about three times as fast as ``executemany`` there)."""
        columns = ", ".join(table.all_columns)
        live = f"{schema}.{table.name}"
        held = self.held.get(table.name)
        if held is None:
            cursor.execute(
                f"INSERT INTO {live} ({columns}) SELECT {columns} FROM {self._temp}.{table.name} "
                f"ORDER BY {', '.join(table.key)}"
            )
            return
        made = self.made[table.name]
        values = (row for chunk in held_chunks(table, held, made) for row in chunk)
        if not self.sqlite:
            with cursor.copy(f"COPY {live} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        marks = ", ".join([self.store.ph] * len(table.all_columns))
        cursor.executemany(f"INSERT INTO {live} ({columns}) VALUES ({marks})", values)

    def _lock(self, cursor: Any, names: Sequence[str], schema: str) -> int:
        """Hold off the live projectors of these views until the swap commits; the position
        the furthest of them got to.

        The generations move first. On SQLite that write takes the database's one write lock,
        waiting for it as long as the busy timeout: it must be the transaction's first statement
        on the stored tables, since one that only read them first (such as ``CREATE TABLE IF NOT
        EXISTS`` of a table that exists) would be refused the lock at once while a live projector
        holds it. On PostgreSQL the tracking rows are taken first, as a live projector's commit
        takes its own before it writes (made where missing, at 0, so that there is a row to
        wait for), then the live tables are locked."""
        ph = self.store.ph
        if not self.sqlite:
            tracking_names = [self.store.tracking_name(name) for name in names]
            cursor.executemany(
                f"INSERT INTO {self.store.tracking_table} (application_name, notification_id) "
                f"VALUES ({ph}, 0) ON CONFLICT DO NOTHING",
                [(name,) for name in tracking_names],
            )
            cursor.execute(
                f"SELECT notification_id FROM {self.store.tracking_table} "
                f"WHERE application_name = ANY({ph}) FOR UPDATE",
                (tracking_names,),
            )
            live = ", ".join(f"{schema}.{table.name}" for table in self.tables)
            cursor.execute(f"LOCK TABLE {live} IN ACCESS EXCLUSIVE MODE")
        _move_generations(cursor, ph, names)
        return max((self.store._position(cursor, name) for name in names), default=0)

    def _current_schema(self, cursor: Any) -> str:
        cursor.execute("SELECT current_schema() AS name")
        return str(cursor.fetchone()["name"])
