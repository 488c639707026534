"""The query API over PostgreSQL: the real ledger's store and the views in a per-run database."""

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import psycopg
import pytest
from etawatch_testing.infra import PostgresDatabase, postgres_database
from etawatch_testing.ledger import eventually
from etawatch_testing.query_api import fill_store, keyed, make_api
from etawatch_testing.query_api_cases import QueryApiCases, held_and_stored_alike
from psycopg import sql

from etawatch.query_api.adapters.view_queries import ViewQueries
from etawatch.query_api.adapters.view_reader import PostgresReader
from etawatch.query_api.application.projector import Projector
from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.domain.projections.orders import ITEMS, ORDERS
from etawatch.query_api.domain.projections.registry import all_projections
from etawatch.query_api.domain.rows import Changes, Statement

pytestmark = pytest.mark.integration


class TestOnPostgres(QueryApiCases):
    databases: dict[str, PostgresDatabase]

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _databases(cls) -> Iterator[None]:
        with ExitStack() as stack:
            cls.databases = {
                name: stack.enter_context(postgres_database("etawatch_test_qa"))
                for name in (
                    "ledger",
                    "live",
                    "crash",
                    "beside",
                    "failed",
                    "wrong",
                    "racing_ledger",
                    "racing",
                    "racing_fresh",
                    "relaid",
                    "per_line",
                    "ahead_ledger",
                    "failing_ledger",
                    "order_reads",
                    "checksums",
                    "spill_budget",
                    "spill_changes",
                    "nul_ledger",
                    "nul",
                )
            }
            yield

    @classmethod
    def ledger_env(cls) -> dict[str, str]:
        return cls.databases["ledger"].env

    @classmethod
    def views_url(cls, name: str) -> str:
        return cls.databases[name].url

    @classmethod
    def store_env(cls, name: str) -> dict[str, str]:
        return cls.databases[name].env


def test_the_projector_reads_the_ledger_with_a_role_that_may_only_select(
    pg_database: PostgresDatabase,
) -> None:
    fill_store(pg_database.env)
    role = f"qa_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database.url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        with postgres_database("etawatch_test_qa") as views:
            api = make_api({**pg_database.env, "POSTGRES_USER": role}, views.url)
            try:
                assert api.project_once_sync() == api.source.head() > 0
                as_reader = pg_database.url.replace(f"{pg_database.user}@", f"{role}@")
                with (
                    psycopg.connect(as_reader) as conn,
                    pytest.raises(psycopg.errors.InsufficientPrivilege),
                ):
                    conn.execute("DELETE FROM ledger_events")  # the role it read with cannot write
            finally:
                api.close()
    finally:
        with psycopg.connect(pg_database.url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def test_copies_in_memory_checksum_as_stored_where_the_database_sorts_text_in_czech() -> None:
    """Czech sorts "Z" after "a" and "á" beside "a": the stored rows are read in code point
    order, as Python sorts the ones held in memory, whatever the database's collation."""
    with (
        postgres_database("etawatch_test_qa") as ledger,
        postgres_database("etawatch_test_qa", icu_locale="cs-CZ") as views,
    ):
        api = make_api(ledger.env, views.url)
        try:
            held_and_stored_alike(api.views)
        finally:
            api.close()


GATE = 4242
WAIT_AT_GATE = Statement("SELECT pg_advisory_xact_lock(?)", ())
"""A statement a test puts among a commit's changes to hold the commit there."""
FORGET_ORDER = Statement("DELETE FROM qa_order_docs WHERE shop_order_id = ?", (ORDERS,))
"""A write to another of the view's tables, after the gate."""


@contextlib.contextmanager
def filled_store() -> Iterator[tuple[PostgresDatabase, PostgresDatabase, QueryApi]]:
    """A ledger's store with the shared story, and a query API over new, empty views."""
    with (
        postgres_database("etawatch_test_qa") as ledger,
        postgres_database("etawatch_test_qa") as views,
    ):
        fill_store(ledger.env)
        api = make_api(ledger.env, views.url)
        try:
            yield ledger, views, api
        finally:
            api.close()


def test_a_swap_and_a_live_commit_in_the_middle_do_not_deadlock() -> None:
    """A live commit of an item's change writes the item's row, then its orders; the swap
    locks the orders, then the items. The commit is held after its first write until the swap
    waits; then both must finish."""
    orders = all_projections()["orders"]
    with filled_store() as (ledger, views, api):
        head = api.source.head()
        Projector(api.source, api.views, [orders]).catch_up(stop=head - 1)
        outcome: dict[str, object] = {}

        def live_commit() -> None:
            state: dict[str, object] = {
                "supplier": "acme",
                "sku": "S9",
                "state": None,
                "doc": {},
            }
            changes: Changes = [
                (WAIT_AT_GATE, [(GATE,)]),
                (FORGET_ORDER, [("none",)]),
            ]
            try:
                api.views.commit("orders", keyed(ITEMS, [state]), changes, head, 0)
                outcome["commit"] = "committed"
            except Exception as exc:  # reported below
                outcome["commit"] = repr(exc)

        def swap() -> None:
            try:
                with api.views.stage({orders.name: orders.tables}) as staged:
                    projector = Projector(api.source, staged, [orders])
                    projector.catch_up(stop=head - 1)

                    def behind(live: int) -> None:
                        projector.catch_up(stop=live)

                    outcome["swap"] = staged.swap(behind)
            except Exception as exc:  # reported below
                outcome["swap"] = repr(exc)

        with psycopg.connect(views.url, autocommit=True) as gate:
            gate.execute("SELECT pg_advisory_lock(%s)", (GATE,))
            committing = threading.Thread(target=live_commit)
            committing.start()
            waiting_for(gate, "locktype = 'advisory'", "the commit at the gate")
            swapping = threading.Thread(target=swap)
            swapping.start()
            waiting_for(gate, "locktype <> 'advisory'", "the swap behind the commit")
            gate.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
            for thread in (committing, swapping):
                thread.join(120)
        assert outcome == {"commit": "committed", "swap": head}
        with postgres_database("etawatch_test_qa") as other:
            fresh = make_api(ledger.env, other.url)
            try:
                fresh.project_once_sync()
                assert api.views.checksum(orders.tables) == fresh.views.checksum(orders.tables)
            finally:
                fresh.close()


def waiting_for(conn: psycopg.Connection[Any], which: str, what: str) -> None:
    """Wait until a session of the database waits for a lock of this kind."""
    sql = f"SELECT count(*) FROM pg_locks WHERE NOT granted AND {which}"

    def waits() -> bool:
        found = conn.execute(sql).fetchone()
        return found is not None and int(found[0]) > 0

    asyncio.run(eventually(waits, what))


def _waiting_for_a_lock(url: str, database: str, deadline: float) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        while time.monotonic() < deadline:
            found = admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                (database,),
            ).fetchone()
            if found is not None and found[0] > 0:
                return
            time.sleep(0.01)
    raise AssertionError("the read never waited for the swap's lock")


@pytest.mark.parametrize("coalesce", [0, 2], ids=["alone", "read-together"])
@pytest.mark.parametrize("isolation", ["read committed", "repeatable read"])
def test_an_order_asked_for_during_a_swap_is_answered_from_the_swapped_in_views(
    isolation: str, coalesce: int
) -> None:
    """``GET /v1/orders/{id}`` asked while a rebuild's swap holds the views' tables waits for
    it, then answers from the rows it swapped in: the order and its items' state. (A read
    whose snapshot were older than the swap would find the new tables empty: a 404.) The
    reader has asked once before, as a server long up has: its statements are prepared. Also
    where the database's default isolation is REPEATABLE READ, under which such a statement
    takes its snapshot before it waits (the reader sets its own: it fails without). Asked for
    alone, and through the statement that reads orders asked for together."""
    orders = all_projections()["orders"]
    with (
        postgres_database("etawatch_test_qa") as ledger,
        postgres_database("etawatch_test_qa") as views,
    ):
        with psycopg.connect(views.url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} SET default_transaction_isolation = {}").format(
                    sql.Identifier(views.name), sql.Literal(isolation)
                )
            )
        fill_store(ledger.env)
        api = make_api(ledger.env, views.url)
        try:
            head = api.source.head()
            Projector(api.source, api.views, [orders]).catch_up()
            answers: list[bytes | None] = []
            asked_once, go = threading.Event(), threading.Event()

            async def ask() -> None:
                reader = PostgresReader(views.url)
                await reader.open()
                queries = ViewQueries(reader, coalesce=coalesce)
                try:
                    answers.append(await queries.order("A-2"))
                    asked_once.set()
                    await asyncio.to_thread(go.wait, 60)
                    answers.append(await queries.order("A-2"))
                finally:
                    await queries.close()
                    await reader.close()

            asking = threading.Thread(target=lambda: asyncio.run(ask()))
            asking.start()
            assert asked_once.wait(60)
            with api.views.stage({orders.name: orders.tables}) as staged:
                projector = Projector(api.source, staged, [orders])
                projector.catch_up(stop=head - 1)  # behind the live view: the swap catches up

                def behind(live: int) -> None:  # called holding the live tables
                    go.set()
                    _waiting_for_a_lock(views.url, views.name, time.monotonic() + 60)
                    projector.catch_up(stop=live)

                assert staged.swap(behind) == head
            asking.join(timeout=60)
        finally:
            api.close()
    before, during = answers
    assert before is not None
    assert during is not None
    document = json.loads(during)
    assert [line["sku"] for line in document["lines"]] == ["S1", "S2"]
    assert all(line["eta"] is not None for line in document["lines"])  # the items' state


@pytest.mark.parametrize("in_flight", [1, 3])
def test_orders_asked_for_at_once_are_read_together_and_answered_as_one_by_one(
    in_flight: int,
) -> None:
    """Forty requests at once for three orders and three ids that are nowhere (one with a NUL,
    which no view holds and which the database refuses) take a few statements, not forty, and
    each is answered as it is when asked for alone."""
    with filled_store() as (_, views, api):
        api.project_once_sync()
        ids = ["A-1", "A-2", "A-3", "NOPE", "A-\u0000", "a-1"] * 5 + ["A-2"] * 10

        async def ask() -> tuple[list[bytes | None], list[bytes | None], int]:
            reader = PostgresReader(views.url)
            await reader.open()
            alone, together = ViewQueries(reader), ViewQueries(reader, coalesce=in_flight)
            try:
                expected = [await alone.order(shop_order_id) for shop_order_id in ids]
                answers = await asyncio.gather(*map(together.order, ids))
                assert together.coalescer is not None
                return expected, answers, together.coalescer.fetches
            finally:
                await together.close()
                await reader.close()

        expected, answers, statements = asyncio.run(ask())
    assert answers == expected
    assert [answer is not None for answer in answers[:6]] == [True] * 3 + [False] * 3
    assert in_flight <= statements <= in_flight + 1  # the first ones alone, then the rest
