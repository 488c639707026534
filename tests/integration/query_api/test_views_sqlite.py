"""The query API over SQLite files filled by the real ledger (embedded mode)."""

import asyncio
import fcntl
import json
import multiprocessing
import os
import signal
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from etawatch_testing.ledger import (
    NOW,
    RunScript,
    feed,
    new_ledger,
    placed,
    store_as_old_version,
)
from etawatch_testing.query_api import HOUR, Keys, client_for, make_api, make_keys
from etawatch_testing.query_api_cases import QueryApiCases

from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.health import SupplierHealth
from etawatch.ledger.domain.values import supplier_health_id
from etawatch.query_api.adapters.ledger_events import LedgerEventSource
from etawatch.query_api.adapters.read_ahead import PIPE_BYTES, ReadAhead, read_ahead
from etawatch.query_api.adapters.sql_views import load_many_sql
from etawatch.query_api.adapters.view_reader import SqliteReader
from etawatch.query_api.domain.projections import catalog, orders
from etawatch.query_api.domain.rows import Table, ddl

pytestmark = pytest.mark.integration


class TestOnSqlite(QueryApiCases):
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _folder(cls, tmp_path_factory: pytest.TempPathFactory) -> None:
        cls.folder = tmp_path_factory.mktemp("query-api")

    folder: Path

    @classmethod
    def ledger_env(cls) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(cls.folder / "ledger.sqlite"),
        }

    @classmethod
    def views_url(cls, name: str) -> str:
        return f"sqlite:///{cls.folder / name}.sqlite"

    @classmethod
    def store_env(cls, name: str) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(cls.folder / f"{name}.sqlite"),
        }


def test_runs_older_ledgers_recorded_answer_null_for_what_they_did_not_keep(
    tmp_path: Path,
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l.db")}
    store = LedgerStore(env=env)
    health_id = supplier_health_id("acme")
    try:
        run = RunScript({"S1": "Q2 2027"}, pages=4, quality=(1, 0, 2))
        new = asyncio.run(feed(new_ledger(store), run))
        v1_run, v2_run = uuid.uuid4(), uuid.uuid4()
        # Version 1 of RunSucceeded, as the ledger stored it before it kept the scraper's report.
        v1 = {"timestamp": NOW, "run_id": v1_run, "finished_at": NOW + HOUR}
        store_as_old_version(store, health_id, [(SupplierHealth.RunSucceeded, v1)], from_version=3)
        # Version 2 of RunFailed for a truncated run: the report without its data-quality counts.
        v2 = {
            "timestamp": NOW,
            "run_id": v2_run,
            "reason": "truncated",
            "message": "table much shorter than last time",
            "failed_at": NOW + 2 * HOUR,
            "started_at": NOW + 2 * HOUR,
            "items_seen": 5,
            "pages": 2,
            "artifacts": [],
        }
        store_as_old_version(
            store, health_id, [(SupplierHealth.RunFailed, v2)], from_version=4, class_version=2
        )
    finally:
        store.close()
    api = make_api(env, f"sqlite:///{tmp_path / 'views.sqlite'}")
    try:
        assert api.project_once_sync() > 0
        with client_for(api) as client:
            read = Keys.bearer(make_keys(api).read)
            runs = client.get("/v1/runs", headers=read).json()["items"]
            # A row of a view built before the quality counts were kept (stored as it was).
            with api.views.transaction(commit=True) as cursor:
                cursor.execute("SELECT run_id, doc FROM qa_runs")
                for run_id, doc in [(r["run_id"], json.loads(r["doc"])) for r in cursor.fetchall()]:
                    for name in ("unknown_availability", "unreadable_eta", "duplicate_skus"):
                        del doc[name]
                    cursor.execute(
                        "UPDATE qa_runs SET doc = ? WHERE run_id = ?", (json.dumps(doc), run_id)
                    )
            older_view = client.get("/v1/runs", headers=read).json()["items"]
    finally:
        api.close()
    fields = ("outcome", "items_seen", "pages")
    quality = ("unknown_availability", "unreadable_eta", "duplicate_skus")
    shown = {r["run_id"]: tuple(r[name] for name in (*fields, *quality)) for r in runs}
    assert shown == {
        str(v1_run): ("complete", None, None, None, None, None),
        str(v2_run): ("failed", 5, 2, None, None, None),
        str(new.run_id): ("complete", 1, 4, 1, 0, 2),
    }
    assert all(r[name] is None for r in older_view for name in quality)
    assert [r["items_seen"] for r in older_view] == [r["items_seen"] for r in runs]


@pytest.mark.parametrize(
    "table",
    [orders.ITEMS, orders.ORDERS, catalog.ITEMS, catalog.ITEM_HISTORY],
    ids=lambda t: t.name,
)
def test_rows_read_together_are_each_found_by_the_key_not_by_reading_the_table(
    table: Table,
) -> None:
    """``load_many`` runs on every batch of a live projector that does not know its rows: were
    its query to read the whole table (as SQLite does for ``(a, b) IN (VALUES ...)``), each
    batch would read every item of the view."""
    keys = [tuple(n if c in table.ints else str(n) for c in table.key) for n in range(450)]
    sql = load_many_sql(table, "?", len(keys))
    with closing(sqlite3.connect(":memory:")) as db:
        for statement in ddl(table):
            db.execute(statement)
        plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", sum(keys, ()))]
    assert [step.split()[0] for step in plan if step.split()[1] == table.name] == ["SEARCH"], plan


@pytest.fixture(scope="module")
def many_orders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A ledger of 8,000 orders: some 1.6 MB of facts, more than the reading process's pipe
    holds (1 MB at most)."""
    folder = tmp_path_factory.mktemp("many_orders")
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "l.db")}
    store = LedgerStore(env=env)
    try:
        ledger = new_ledger(store)

        async def fill() -> None:
            for n in range(8000):
                await ledger.handle_command(placed(f"CTRL-{n}", ["S1", "S2"]))

        asyncio.run(fill())
    finally:
        store.close()
    return env


def test_ctrl_c_stops_the_rebuild_not_its_reading_process(many_orders: dict[str, str]) -> None:
    """Ctrl-C reaches every process of the terminal's group: the rebuild stops on it (and its
    reading process with it, once nobody reads); the reading process itself does not end with
    a traceback of its own. Here only the reading process is interrupted, as it starts and
    while it still has events to send (more than the pipe holds): it goes on to the end."""
    env = many_orders
    source = LedgerEventSource(env)
    try:
        with read_ahead(source, batch_size=4) as ahead:
            (reader,) = multiprocessing.active_children()
            assert reader.pid is not None
            os.kill(reader.pid, signal.SIGINT)  # while it is still starting
            batch = ahead.read(0, 4)  # the reading process has started reading
            os.kill(reader.pid, signal.SIGINT)  # while it reads
            read = len(batch)
            while batch:
                read += len(batch := ahead.read(batch[-1][0], 4))
        assert read == source.head() == 8000
    finally:
        source.close()


def test_a_rebuild_that_stops_early_ends_its_reading_process(many_orders: dict[str, str]) -> None:
    """The rebuild takes one batch and stops (an error, Ctrl-C): the reading process, blocked
    on a full pipe (widened to ``PIPE_BYTES``), ends of itself once the rebuild's end of the
    pipe is closed, rather than being terminated after five seconds (exit code -15, not 0)."""
    source = LedgerEventSource(many_orders)
    try:
        with read_ahead(source, batch_size=1000) as ahead:
            (reader,) = multiprocessing.active_children()
            assert isinstance(ahead, ReadAhead)
            widened = fcntl.fcntl(ahead._pipe.fileno(), fcntl.F_GETPIPE_SZ)
            limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
            assert widened == (PIPE_BYTES if limit >= PIPE_BYTES else 65536)  # the system's limit
            assert len(ahead.read(0, 1000)) == 1000
        assert reader.exitcode == 0
    finally:
        source.close()


async def test_reads_in_worker_threads_cannot_write_and_end_before_the_reader_closes(
    tmp_path: Path,
) -> None:
    """``SqliteReader.apart`` reads in threads of its own, each with a read-only connection;
    closing the reader waits for them."""
    path = tmp_path / "views.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO t VALUES (?)", [(f"k{n}",) for n in range(100)])
    reader = SqliteReader(str(path))
    await reader.open()
    rows = await asyncio.gather(*(reader.apart("SELECT count(*) FROM t") for _ in range(8)))
    assert rows == [[(100,)]] * 8
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await reader.apart("INSERT INTO t VALUES ('x')")
    await reader.close()
    assert await reader.apart("SELECT count(*) FROM t") == [(100,)]  # opens again
    await reader.close()
