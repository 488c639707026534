"""The query API's tests over a store filled by the real ledger, written once per store.

Subclasses say which store (SQLite files, or a PostgreSQL database) through ``ledger_env`` and
``views_url``; like the ledger's own cases and eventsourcing's examples.
"""

import asyncio
import datetime as dt
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from etawatch.contracts.availability import Availability
from etawatch.ledger.application.service import Ledger
from etawatch.ledger.application.store import LedgerStore
from etawatch.query_api.adapters.ledger_events import LedgerEventSource
from etawatch.query_api.adapters.read_ahead import ReadAhead, ReaderError, read_ahead
from etawatch.query_api.adapters.sql_views import SqlStaged, SqlViewStore
from etawatch.query_api.application.projector import Projector
from etawatch.query_api.application.rebuild import rebuild
from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.domain import facts as f
from etawatch.query_api.domain.facts import ITEM_FACTS, Fact, ItemBaselined
from etawatch.query_api.domain.projections import Projection
from etawatch.query_api.domain.projections.catalog import ITEMS
from etawatch.query_api.domain.projections.orders import ITEMS as ORDER_ITEMS
from etawatch.query_api.domain.projections.orders import OPEN, ORDERS, order_from_rows
from etawatch.query_api.domain.projections.registry import all_projections
from etawatch.query_api.domain.projections.runs import RUNS
from etawatch.query_api.domain.rows import MemoryRows, Row, Rows, Statement, Table
from etawatch.query_api.entrypoints.api.app import create_app
from etawatch_testing.ledger import NOW, RunScript, Seen, closed, feed, new_ledger, placed
from etawatch_testing.query_api import (
    HOUR,
    Keys,
    Marks,
    client_for,
    fill_store,
    keyed,
    make_api,
    make_keys,
)


@dataclass
class World:
    api: QueryApi
    client: TestClient
    keys: Keys
    marks: Marks
    ledger_env: dict[str, str]

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=Keys.bearer(self.keys.read))
        assert response.status_code == 200, response.text
        return response.json()


NUL_ORDER = json.dumps(
    {
        "shop_order_id": "N-1",
        "customer_id": "c-1",
        "email": "jana@example.com",
        "customer_name": "Ja\u0000na",  # inside the document: kept
        "lines": [{"supplier": "acme", "sku": "S\u00001", "name": "Figure", "quantity": 1}],
    }
)
"""An order the views could not hold on PostgreSQL (its line's SKU holds a NUL)."""


class QueryApiCases:
    """What the shop and its support see, whatever the store."""

    @classmethod
    def ledger_env(cls) -> dict[str, str]:
        raise NotImplementedError

    @classmethod
    def views_url(cls, name: str) -> str:
        """A new, empty views database called ``name``."""
        raise NotImplementedError

    @classmethod
    def store_env(cls, name: str) -> dict[str, str]:
        """eventsourcing's variables of a new, empty event store called ``name``."""
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def world(cls) -> Iterator[World]:
        env = cls.ledger_env()
        marks = fill_store(env)
        api = make_api(env, cls.views_url("live"), batch_size=7)
        assert api.project_once_sync() > 0
        with client_for(api) as client:
            yield World(api, client, make_keys(api), marks, env)
        api.close()

    @contextmanager
    def other_views(self, world: World, name: str) -> Iterator[QueryApi]:
        """An API over the world's ledger with views of its own, empty at first."""
        api = make_api(world.ledger_env, self.views_url(name), batch_size=7)
        try:
            yield api
        finally:
            api.close()

    # --- orders ---------------------------------------------------------------------------

    def test_an_order_shows_its_lines_now_their_history_and_what_the_customer_was_told(
        self, world: World
    ) -> None:
        order = world.get("/v1/orders/A-1")
        assert order["status"] == "open"
        (line,) = order["lines"]
        assert (line["sku"], line["quantity"], line["availability"]) == ("S1", 2, "pre_order")
        assert line["eta"]["raw"] == "Q3 2027"
        assert line["eta_at_order"]["raw"] == "Q2 2027"  # the first date known after the order
        assert line["delay_days"] == 92
        assert order["max_delay_days"] == 92
        (change,) = line["history"]
        assert change["change_kind"] == "eta_later"
        assert change["shift_days"] == 92
        assert (change["previous_eta"]["raw"], change["eta"]["raw"]) == ("Q2 2027", "Q3 2027")
        assert [change["change_id"]] == world.marks.change_ids["A-1"]
        (sent,) = order["notifications"]
        assert sent["outcome"] == "sent"
        assert sent["change_ids"] == world.marks.change_ids["A-1"]
        assert "@example.com" not in json.dumps(order)  # no customer e-mail in answers

    def test_a_sold_out_line_and_a_closed_order(self, world: World) -> None:
        order = world.get("/v1/orders/A-3")
        assert order["status"] == "fulfilled"
        assert order["closed_at"] is not None
        (line,) = order["lines"]
        assert line["availability"] == "sold_out"
        assert line["history"][0]["change_kind"] == "sold_out"

    def test_an_order_read_by_one_statement_is_the_order_its_rows_make(self, world: World) -> None:
        """``GET /v1/orders/{id}`` finds its items' state from the stored document's lines (the
        database's JSON functions): the same answer as the rows make in memory, for lines of
        one item twice, items never observed (state NULL) or with no row at all, text with
        quotes, backslashes, non-ASCII and a NUL character, a closed order and one with no
        lines left. Asked for one by one and all at once, with an unknown id among them."""
        orders = all_projections()["orders"]
        rows = MemoryRows()
        for row in crafted_order_rows():
            rows.put(ORDERS if "customer_id" in row else ORDER_ITEMS, row)
        with self.other_views(world, "order_reads") as api:
            api.views.ensure(orders.name, orders.tables)
            stored = {t: dict(rows.tables[t.name]) for t in (ORDERS, ORDER_ITEMS)}
            api.views.commit(orders.name, stored, (), 1, 0)

            ids = [key[0] for key in stored[ORDERS]]

            async def ask() -> tuple[list[bytes | None], list[bytes | None], int]:
                await api.reader.open()
                reads = api.queries.coalescer
                assert reads is not None
                try:
                    one_by_one = [await api.queries.order(shop_order_id) for shop_order_id in ids]
                    before = reads.fetches
                    asked = [*ids, "NOPE", *ids]
                    at_once = await asyncio.gather(*map(api.queries.order, asked))
                    return one_by_one, at_once, reads.fetches - before
                finally:
                    await api.queries.close()
                    await api.reader.close()

            answers, together, statements = asyncio.run(ask())
        for (shop_order_id,), answer in zip(stored[ORDERS], answers, strict=True):
            assert answer is not None
            assert json.loads(answer) == order_from_rows(rows, shop_order_id), shop_order_id
        assert together == [*answers, None, *answers]
        assert 1 <= statements <= api.reader.reads_in_flight + 1 < len(ids)  # read together

    def test_orders_filter_by_customer_status_delay_and_change(self, world: World) -> None:
        def ids(**params: Any) -> list[str]:
            return [o["shop_order_id"] for o in world.get("/v1/orders", **params)["items"]]

        assert ids() == ["A-1", "A-2", "A-3"]
        assert ids(customer_id="cust-A-2") == ["A-2"]
        assert ids(status="fulfilled") == ["A-3"]
        assert ids(status="open") == ["A-1", "A-2"]
        assert ids(delayed_more_than_days=30) == ["A-1", "A-2"]
        assert ids(delayed_more_than_days=92) == []
        assert ids(changed_since=world.marks.after_change.isoformat()) == []
        assert ids(changed_since=world.marks.before_orders.isoformat()) == ["A-1", "A-2", "A-3"]

    def test_orders_page_with_a_cursor(self, world: World) -> None:
        first = world.get("/v1/orders", limit=2)
        assert [o["shop_order_id"] for o in first["items"]] == ["A-1", "A-2"]
        second = world.get("/v1/orders", limit=2, cursor=first["next_cursor"])
        assert [o["shop_order_id"] for o in second["items"]] == ["A-3"]
        assert second["next_cursor"] is None
        assert world.get("/v1/orders", limit=2, cursor="") == first  # nothing after no id

    def test_unknown_ids_are_404_with_a_reason(self, world: World) -> None:
        headers = Keys.bearer(world.keys.read)
        for path in ("/v1/orders/NOPE", "/v1/items/acme/NOPE", "/v1/items/acme/NOPE/history"):
            response = world.client.get(path, headers=headers)
            assert response.status_code == 404, path
            assert "NOPE" in response.json()["detail"]
        for path in ("/v1/orders/A-1%00", "/v1/items/acme/S1%00", "/v1/items/acme/S1%00/history"):
            response = world.client.get(path, headers=headers)  # no stored key holds a NUL
            assert response.status_code == 404, path
            assert response.json()["detail"], path
        for path, params in (
            ("/v1/orders", {"customer_id": "cust-A-1\x00"}),
            ("/v1/changes", {"supplier": "acme\x00"}),
            ("/v1/runs", {"supplier": "acme\x00"}),
        ):
            assert world.get(path, **params)["items"] == [], path

    def test_bad_input_is_a_4xx_with_a_reason_never_a_500(self, world: World) -> None:
        write, read = Keys.bearer(world.keys.write), Keys.bearer(world.keys.read)
        client = world.client
        tried = {  # what was sent: the answer it must get
            ("POST", "/v1/orders/%0D/close", '{"reason": "cancelled"}'): 422,  # a blank id
            ("POST", "/v1/orders/A-1/close", '{"reason": "lost"}'): 422,
            ("POST", "/v1/orders", "{not json"): 422,
            ("POST", "/v1/orders", '{"shop_order_id": "X", "lines": []}'): 422,
            ("POST", "/v1/orders", NUL_ORDER): 422,  # the views could not hold it
            ("GET", "/v1/orders/A-1?as_of=2026-11-28T10:00:00", ""): 422,  # no time zone
            ("GET", "/v1/orders?changed_since=2026-11-28T10:00:00", ""): 422,
            ("GET", "/v1/orders?limit=0", ""): 422,
            ("GET", "/v1/orders?cursor=A-1%00", ""): 422,  # not a cursor the API gives
            ("GET", "/v1/changes?after=abc", ""): 422,
            ("GET", "/v1/runs?cursor=-1", ""): 422,
            ("GET", "/v1/items/ACME!/S1", ""): 422,
        }
        for (method, path, body), expected in tried.items():
            headers = {**(write if method == "POST" else read), "Content-Type": "application/json"}
            response = client.request(method, path, content=body or None, headers=headers)
            assert response.status_code == expected, (method, path, response.text)
            assert response.json()["detail"], (method, path)
        refused = client.post("/v1/orders", json=json.loads(NUL_ORDER), headers=write)
        assert "NUL" in refused.json()["detail"] and "lines[1].sku" in refused.json()["detail"]
        assert "customer_name" not in refused.json()["detail"]

    # --- items, changes, runs ---------------------------------------------------------------

    def test_an_item_now_and_its_history(self, world: World) -> None:
        item = world.get("/v1/items/acme/S1")
        assert item["eta"]["raw"] == "Q3 2027"
        assert item["change_count"] == 1
        history = world.get("/v1/items/acme/S1/history")["entries"]
        assert [(h["kind"], h["eta"]["raw"]) for h in history] == [
            ("baseline", "Q2 2027"),
            ("changed", "Q3 2027"),
        ]

    def test_the_change_feed_is_polled_with_its_cursor(self, world: World) -> None:
        feed = world.get("/v1/changes")
        kinds = [(c["sku"], c["change_kind"]) for c in feed["items"]]
        assert sorted(kinds) == [("S1", "eta_later"), ("S3", "sold_out")]  # partitions' order
        assert [int(c["cursor"]) for c in feed["items"]] == sorted(
            int(c["cursor"]) for c in feed["items"]
        )
        one = world.get("/v1/changes", limit=1)
        rest = world.get("/v1/changes", after=one["next_cursor"])
        assert one["items"] + rest["items"] == feed["items"]
        assert world.get("/v1/changes", after=feed["next_cursor"])["items"] == []

    def test_runs_and_supplier_health(self, world: World) -> None:
        runs = world.get("/v1/runs")["items"]
        assert [r["outcome"] for r in runs] == ["failed", "complete", "complete"]
        assert runs[1]["observations"] == 3
        assert runs[1]["partitions_compared"] == 4
        reported = [(r["items_seen"], r["pages"], r["artifacts"]) for r in runs]
        assert reported == [
            (None, None, ["acme/login.png"]),  # a run that failed reports no counts
            (2, 2, None),  # as the scraper said, fewer than the 3 rows the ledger compared
            (3, 1, None),
        ]
        quality = [
            (r["unknown_availability"], r["unreadable_eta"], r["duplicate_skus"]) for r in runs
        ]
        assert quality == [(None, None, None), (1, 2, 1), (0, 0, 0)]  # a failed run has none
        started = [dt.datetime.fromisoformat(r["started_at"]) for r in runs]
        assert started == [NOW + 2 * HOUR, NOW + HOUR, NOW]  # a failed run's start is known too
        (health,) = world.get("/v1/runs/health")
        assert health["consecutive_failures"] == 1
        assert health["last_outcome"] == "failed"

    # --- as_of ------------------------------------------------------------------------------

    def test_as_of_answers_what_was_known_then(self, world: World) -> None:
        marks = world.marks
        before = world.get("/v1/orders/A-1", as_of=marks.before_change.isoformat())
        assert before["lines"][0]["eta"]["raw"] == "Q2 2027"
        assert before["lines"][0]["history"] == []
        assert before["notifications"] == []
        after = world.get("/v1/orders/A-1", as_of=marks.after_change.isoformat())
        assert after == world.get("/v1/orders/A-1")
        item = world.get("/v1/items/acme/S1", as_of=marks.before_change.isoformat())
        assert item["eta"]["raw"] == "Q2 2027"
        history = world.get("/v1/items/acme/S1/history", as_of=marks.after_change.isoformat())
        assert history == world.get("/v1/items/acme/S1/history")
        response = world.client.get(
            "/v1/orders/A-1",
            params={"as_of": marks.before_orders.isoformat()},
            headers=Keys.bearer(world.keys.read),
        )
        assert response.status_code == 404

    # --- auth -------------------------------------------------------------------------------

    def test_no_key_is_401_a_wrong_scope_is_403(self, world: World) -> None:
        client = world.client
        assert client.get("/v1/orders/A-1").status_code == 401
        bad = client.get("/v1/orders/A-1", headers=Keys.bearer("etw_000000000000_nope"))
        assert bad.status_code == 401
        assert client.get("/v1/orders/A-1", headers=Keys.bearer("garbage")).status_code == 401
        wrong = client.get("/v1/orders/A-1", headers=Keys.bearer(world.keys.write))
        assert wrong.status_code == 403
        assert "read" in wrong.json()["detail"]
        post = client.post(
            "/v1/orders/A-1/close",
            json={"reason": "cancelled"},
            headers=Keys.bearer(world.keys.read),
        )
        assert post.status_code == 403
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200

    def test_the_authorization_header_is_read_as_a_bearer_scheme(self, world: World) -> None:
        client, key = world.client, world.keys.read
        for header in (f"Basic {key}", "Bearer", "Bearer ", key, f"Token {key}", ""):
            answer = client.get("/v1/orders/A-1", headers={"Authorization": header})
            assert answer.status_code == 401, header
            assert answer.headers["WWW-Authenticate"] == "Bearer", header
            assert "Authorization: Bearer" in answer.json()["detail"], header
        for header in (f"bearer {key}", f"BEARER {key}", f"Bearer   {key}  "):
            answer = client.get("/v1/orders/A-1", headers={"Authorization": header})
            assert answer.status_code == 200, header
        unknown = client.get("/v1/orders/A-1", headers={"Authorization": f"Bearer {key}x"})
        assert unknown.status_code == 401
        assert unknown.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    # --- rebuild and exactly-once -----------------------------------------------------------

    def test_rebuild_equals_the_live_view(self, world: World) -> None:
        projections = list(all_projections().values())
        generations = [world.api.views.generation(p.name) for p in projections]
        result = rebuild(world.api.source, world.api.views, projections, batch_size=5)
        head = world.api.source.head()
        assert result.events == head == result.swapped_at
        assert [(v.position, v.equal) for v in result.views] == [(head, True)] * 3
        assert [world.api.views.generation(p.name) for p in projections] == [
            g + 1 for g in generations
        ]
        assert world.get("/v1/orders/A-1")["lines"][0]["delay_days"] == 92
        assert world.get("/v1/orders", delayed_more_than_days=30)["items"]  # indexes back
        assert world.api.project_once_sync() == 0  # nothing left to apply, nothing applied twice

    def test_the_live_views_answer_while_a_rebuild_runs_and_its_live_projector_goes_on(
        self, world: World
    ) -> None:
        with self.other_views(world, "beside") as api:
            head = api.source.head()
            api.projector.catch_up(stop=head - 4)
            projections = list(all_projections().values())
            before = {p.name: api.views.checksum(p.tables) for p in projections}
            seen: list[bool] = []

            def meanwhile(_: int) -> None:
                seen.append(
                    all(api.views.checksum(p.tables) == before[p.name] for p in projections)
                )
                api.projector.catch_up()  # the live projector reaches the head

            with client_for(api) as client:
                key = make_keys(api).read
                late = ArrivingLate(api.source, head - 4)
                result = rebuild(late, api.views, projections, batch_size=5, progress=meanwhile)
                response = client.get("/v1/orders/A-1", headers=Keys.bearer(key))
            assert seen and seen[0] and not any(seen[1:])  # untouched until its projector moved
            assert response.status_code == 200
            assert [(v.position, v.equal) for v in result.views] == [(head - 4, True)] * 3
            assert late.found_end
            assert result.swapped_at == head  # the swap caught up with the live projector
            for projection in projections:
                assert api.views.position(projection.name) == head
                assert api.views.checksum(projection.tables) == world.api.views.checksum(
                    projection.tables
                )

    def test_a_failed_rebuild_leaves_the_live_views_as_they_were(self, world: World) -> None:
        with self.other_views(world, "failed") as api:
            api.project_once_sync()
            projections = list(all_projections().values())
            views = api.views
            before = {p.name: views.position_and_checksum(p.name, p.tables) for p in projections}

            def fail(_: int) -> None:
                raise CrashError("stopped in the middle of a rebuild")

            with pytest.raises(CrashError):
                rebuild(api.source, api.views, projections, batch_size=5, progress=fail)
            for projection in projections:
                now = api.views.position_and_checksum(projection.name, projection.tables)
                assert now == before[projection.name]
                assert api.views.generation(projection.name) == 0
            result = rebuild(api.source, api.views, projections, batch_size=5)
            assert result.equal

    def test_a_rebuild_says_a_wrong_view_differs_and_replaces_it(self, world: World) -> None:
        with self.other_views(world, "wrong") as api:
            api.project_once_sync()
            with api.views.transaction(commit=True) as cursor:
                cursor.execute("UPDATE qa_order_docs SET customer_id = 'tampered'")
            orders = all_projections()["orders"]
            (result,) = rebuild(api.source, api.views, [orders]).views
            assert not result.equal
            assert api.views.checksum(orders.tables) == world.api.views.checksum(orders.tables)

    def test_a_view_stored_otherwise_by_an_earlier_version_is_projected_again(
        self, world: World
    ) -> None:
        """Upgrading over views laid out by an earlier version: a projection missing one of
        its tables while past its first event starts again from the first event on start-up,
        and ends equal to a fresh one; the others are left as they were."""
        url = self.views_url("relaid")
        first = make_api(world.ledger_env, url)
        try:
            first.project_once_sync()
            with first.views.transaction(commit=True) as cursor:
                cursor.execute("DROP TABLE qa_order_items")  # as if this version added it
            items = all_projections()["items"]
            kept = first.views.position_and_checksum(items.name, items.tables)
        finally:
            first.close()
        again = make_api(world.ledger_env, url)  # what a restart after an upgrade does
        try:
            orders = all_projections()["orders"]
            assert again.views.position("orders") == 0
            assert again.views.generation("orders") == 1
            assert again.views.position_and_checksum(items.name, items.tables) == kept
            again.project_once_sync()
            assert again.views.checksum(orders.tables) == world.api.views.checksum(orders.tables)
        finally:
            again.close()

    def test_the_tables_an_earlier_version_kept_go_when_it_is_projected_again(
        self, world: World
    ) -> None:
        """Upgrading over the orders view of the version that kept a row per line: its tables
        are dropped with it (nothing reads them any more), and the view is projected again."""
        url = self.views_url("per_line")
        first = make_api(world.ledger_env, url)
        earlier = ("qa_orders", "qa_order_lines", "qa_order_item_state")
        try:
            first.project_once_sync()
            with first.views.transaction(commit=True) as cursor:
                for table in ("qa_order_docs", "qa_order_items"):
                    cursor.execute(f"DROP TABLE {table}")
                for table in earlier:  # as that version laid them out, in short
                    cursor.execute(f"CREATE TABLE {table} (shop_order_id TEXT, doc TEXT)")
        finally:
            first.close()
        again = make_api(world.ledger_env, url)
        try:
            with again.views.transaction(commit=False) as cursor:
                assert [t for t in earlier if again.views._exists(cursor, t)] == []
            again.project_once_sync()
            orders = all_projections()["orders"]
            assert again.views.checksum(orders.tables) == world.api.views.checksum(orders.tables)
        finally:
            again.close()

    def test_events_read_ahead_by_a_second_process_equal_those_read_here(self) -> None:
        """The rebuild's reading process: the same facts, batch by batch, as reading in this
        process; events recorded after it finished are read here; a read further back than
        it got is read here too."""
        env = self.store_env("ahead_ledger")
        fill_store(env)
        direct = LedgerEventSource(env)
        try:
            with read_ahead(direct, batch_size=4) as ahead:
                assert isinstance(ahead, ReadAhead)
                position, read = 0, list[tuple[int, f.Fact | None]]()
                while batch := ahead.read(position, 3):
                    read.extend(batch)
                    position = batch[-1][0]
                assert position == direct.head() > 0
                assert not direct.translator._names  # nothing was translated in this process
                assert read == list(direct.read(0, position))
                assert ahead.read(2, 2) == direct.read(2, 2)  # further back than it has
                writer = LedgerStore(env=env)
                try:
                    asyncio.run(new_ledger(writer).handle_command(placed("LATE-1", ["S1"])))
                finally:
                    writer.close()
                (late,) = ahead.read(position, 10)[:1]
                assert isinstance(late[1], f.OrderOpened)
                assert late[1].shop_order_id == "LATE-1"
            with read_ahead(direct, batch_size=4, enabled=False) as same:
                assert same is direct  # ETAWATCH_REBUILD_READ_AHEAD=false
        finally:
            direct.close()

    def test_events_naming_an_id_with_a_nul_are_left_out_and_the_views_go_on(self) -> None:
        """Producers other than this API (a scraped SKU, an order from the broker) can put a
        NUL character into the ledger. PostgreSQL's views could not hold it, and stopped there
        for good (each step failed on the same batch). An event with one in a key is left out,
        logged and counted; one in a column is shown as U+FFFD; everything else is projected
        and answered, and a rebuild does the same."""
        env = self.store_env("nul_ledger")
        store = LedgerStore(env=env)

        async def write(ledger: Ledger) -> None:
            await ledger.handle_command(placed("N-1", {"S\x001": 1}))  # a line's SKU
            await ledger.handle_command(placed("N\x002", {"S1": 1}, customer_id="c-2"))  # its id
            await ledger.handle_command(placed("N-3", {"S1": 2}))
            await ledger.handle_command(placed("N-4", {"S1": 1}, customer_id="c\x004"))
            await feed(ledger, RunScript({"S1": "Q2 2027", "S\x002": "03/2027"}))  # scraped
            await ledger.handle_command(closed("N\x002"))

        try:
            asyncio.run(write(new_ledger(store)))
        finally:
            store.close()
        api = make_api(env, self.views_url("nul"), batch_size=3)
        try:
            keys = make_keys(api)
            with TestClient(create_app(api, run_projector=True)) as client:
                for _ in range(200):  # the projector in the background reaches the head
                    if set(api.projector.lag().values()) == {0}:
                        break
                    time.sleep(0.05)
                assert set(api.projector.lag().values()) == {0}
                metrics = client.get("/metrics").text

                def get(path: str) -> Any:
                    return client.get(path, headers=Keys.bearer(keys.read))

                order = get("/v1/orders/N-3").json()
                assert [(x["sku"], x["eta"]["raw"]) for x in order["lines"]] == [("S1", "Q2 2027")]
                assert get("/v1/items/acme/S1").status_code == 200
                assert get("/v1/orders/N-1").status_code == 404
                # a customer id is a column, not a key: its NUL is shown as U+FFFD
                assert get("/v1/orders/N-4").json()["customer_id"] == "c\ufffd4"
                listed = [x["shop_order_id"] for x in get("/v1/orders").json()["items"]]
                assert sorted(listed) == ["N-3", "N-4"]
            # two orders' placing (a SKU, an id), one's closing, the scraped item's first sighting
            assert api.source.translator.left_out == 4
            assert "etawatch_query_api_events_left_out_total 4.0" in metrics
            projections = list(all_projections().values())
            assert rebuild(api.source, api.views, projections).equal
        finally:
            api.close()

    def test_a_reading_process_that_fails_says_why(self) -> None:
        """The second process cannot open the store (here: a persistence module that does not
        exist): the rebuild's first read raises with its reason."""
        env = self.store_env("failing_ledger")
        source = LedgerEventSource(env)
        try:
            source.env = {**env, "PERSISTENCE_MODULE": "no_such_module"}
            with read_ahead(source, batch_size=4) as ahead, pytest.raises(ReaderError) as failed:
                ahead.read(0, 10)
            assert "no_such_module" in str(failed.value)
        finally:
            source.close()

    def test_a_rebuild_while_a_live_projector_thread_goes_on_and_events_come(self) -> None:
        """The rebuild in this thread (its own store, as the CLI's process has); in others the
        live projector steps in a loop, the ledger takes new orders and runs, and the API is
        asked for the orders that existed before. The API answers 200 throughout, the live
        projector never fails, and the views end as a fresh projection of the whole ledger."""
        env = self.store_env("racing_ledger")
        fill_store(env)
        live = make_api(env, self.views_url("racing"), batch_size=3)
        rebuilding = make_api(env, self.views_url("racing"), batch_size=5)
        try:
            assert live.project_once_sync() > 0  # rows the live projector keeps, complete
            projections = list(all_projections().values())
            with client_for(live) as client, Racing(live, env, client) as racing:
                result = rebuild(
                    rebuilding.source,
                    rebuilding.views,
                    projections,
                    batch_size=5,
                    progress=racing.rebuild_moved,
                )
                racing.stop_writing()
                appended = racing.appended
            assert appended > 0
            assert racing.errors == []
            assert racing.answers and set(racing.answers) == {200}, racing.answers
            assert result.equal
            live.project_once_sync()
            head = live.source.head()
            fresh = make_api(env, self.views_url("racing_fresh"))
            try:
                assert fresh.project_once_sync() == head
                for projection in projections:
                    assert live.views.generation(projection.name) == 1  # swapped in once
                    assert live.views.position(projection.name) == head
                    assert live.views.checksum(projection.tables) == fresh.views.checksum(
                        projection.tables
                    ), projection.name
            finally:
                fresh.close()
        finally:
            rebuilding.close()
            live.close()

    def test_each_event_is_applied_once_across_a_crash_in_the_middle_of_a_batch(
        self, world: World
    ) -> None:
        api = make_api(world.ledger_env, self.views_url("crash"), batch_size=10)
        try:
            crashing = Projector(
                api.source,
                CrashingStore(api.views, after_commits=2),
                api.projector.projections,
                batch_size=10,
            )
            with pytest.raises(CrashError):
                crashing.catch_up()
            assert 0 < api.views.position("orders") < api.source.head()
            restarted = Projector(api.source, api.views, all_projections().values(), batch_size=10)
            restarted.catch_up()
            for projection in all_projections().values():
                live_tables = projection.tables
                assert api.views.checksum(live_tables) == world.api.views.checksum(live_tables), (
                    projection.name
                )
        finally:
            api.close()

    # --- a rebuild's copies in memory, and when they spill -----------------------------------

    def test_copies_in_memory_have_the_checksum_of_the_same_rows_stored(self, world: World) -> None:
        with self.other_views(world, "checksums") as api:
            held_and_stored_alike(api.views)

    def test_copies_past_their_memory_spill_and_end_as_a_fresh_projection(
        self, world: World
    ) -> None:
        with self.other_views(world, "spill_budget") as api:
            api.project_once_sync()
            projections = list(all_projections().values())
            fresh = {p.name: api.views.position_and_checksum(p.name, p.tables) for p in projections}
            # Fewer rows than the views have, more than one event makes: spilled on the way.
            with api.views.stage({p.name: p.tables for p in projections}, cache_rows=10) as staged:
                steps = replay(Projector(api.source, staged, projections, batch_size=1), staged)
                assert any(sum(held.values()) > 0 for _, held in steps)  # in memory at first
                assert steps[-1] == ({p.name for p in projections}, {})
                for projection in projections:
                    assert staged.checksum(projection.tables) == fresh[projection.name][1]
                assert staged.swap(lambda _: None) == api.source.head()
            for projection in projections:
                now = api.views.position_and_checksum(projection.name, projection.tables)
                assert now == fresh[projection.name], projection.name

    def test_set_based_changes_spill_their_projection_only(self, world: World) -> None:
        with self.other_views(world, "spill_changes") as api:
            counting = CountingChanges()
            projections: list[Projection] = [*all_projections().values(), counting]
            api.views.ensure(counting.name, counting.tables)
            Projector(api.source, api.views, projections).catch_up()
            fresh = {p.name: api.views.position_and_checksum(p.name, p.tables) for p in projections}
            with api.views.stage({p.name: p.tables for p in projections}) as staged:
                steps = replay(Projector(api.source, staged, projections, batch_size=5), staged)
                assert any(held.get(ITEMS_SEEN.name, 0) > 0 for _, held in steps)  # at first
                spilled, held = steps[-1]
                assert counting.name in spilled and ITEMS_SEEN.name not in held
                assert not {"items", "runs"} & spilled  # the others stay in memory
                assert held[ITEMS.name] > 0 and held[RUNS.name] > 0
                assert staged.swap(lambda _: None) == api.source.head()
            for projection in projections:
                now = api.views.position_and_checksum(projection.name, projection.tables)
                assert now == fresh[projection.name], projection.name


class CrashError(Exception):
    pass


class CrashingStore:
    """A view store that dies after ``after_commits`` commits, in the middle of the next batch:
    the rows of that batch are computed but the process stops before they are written."""

    def __init__(self, inner: Any, after_commits: int) -> None:
        self.inner = inner
        self.left = after_commits

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(
        self, projection: str, rows: Any, changes: Any, position: int, generation: int
    ) -> None:
        if self.left == 0:
            raise CrashError(f"stopped before committing {projection} at {position}")
        self.left -= 1
        self.inner.commit(projection, rows, changes, position, generation)


JOIN = 120.0
"""Seconds to wait for a thread of ``Racing``, or for it to move: a bound never reached when
it works."""


class Racing:
    """Threads that go on beside a rebuild: the live projector stepping, a writer appending
    orders and runs to the ledger, and a poller asking the API for the orders that existed
    before. Each keeps what went wrong.

    The writer starts with the rebuild and writes a round whenever the live projector has
    applied the one before, up to ``ROUNDS``: events come, and the live views move, while the
    copies are read, caught up and swapped. Each time the rebuild moves it waits until the
    poller has had an answer and the writer a new round since its last move."""

    ORDERS = ("A-1", "A-2", "A-3")
    ROUNDS = 30

    def __init__(self, api: QueryApi, ledger_env: dict[str, str], client: TestClient) -> None:
        self.api, self.ledger_env, self.client = api, ledger_env, client
        self.headers = Keys.bearer(make_keys(api).read)
        self.errors: list[str] = []
        self.answers: dict[int, int] = {}
        self.appended = self.polled = self.projected = self.head = 0
        self.seen = (0, 0)
        self.moved = threading.Condition()
        self.started = threading.Event()
        self.writing_stopped = threading.Event()
        self.stopped = threading.Event()
        self.threads = [
            threading.Thread(target=self._guarded, args=(work,), name=work.__name__)
            for work in (self._project, self._write, self._poll)
        ]

    def __enter__(self) -> "Racing":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.started.set()
        self.stop_writing()
        self.stopped.set()
        for thread in self.threads:
            thread.join(JOIN)
            if thread.is_alive():
                self.errors.append(f"{thread.name} did not end within {JOIN} s")

    def rebuild_moved(self, _: int) -> None:
        """The rebuild's progress: wait for an answer and a round since its last move."""
        self.started.set()
        last_polled, last_appended = self.seen
        with self.moved:
            if not self.moved.wait_for(
                lambda: (
                    self.polled > last_polled
                    and (self.appended > last_appended or self.writing_stopped.is_set())
                ),
                JOIN,
            ):
                self.errors.append("the poller or the writer did not move")
            self.seen = (self.polled, self.appended)

    def stop_writing(self) -> None:
        with self.moved:
            self.writing_stopped.set()
            self.moved.notify_all()

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # reported by the test
            self.errors.append(f"{threading.current_thread().name}: {exc!r}")
        finally:
            if work == self._write:
                self.stop_writing()

    def _project(self) -> None:
        projector = self.api.projector
        while not self.stopped.is_set():
            try:
                applied = projector.step()
            except Exception as exc:  # the service's loop logs and retries
                self.errors.append(f"live projector: {exc!r}")
                applied = 0
            if applied == 0:
                reached = min(projector.store.position(p.name) for p in projector.projections)
                with self.moved:
                    self.projected = reached
                    self.moved.notify_all()
                self.stopped.wait(0.002)

    def _write(self) -> None:
        store = LedgerStore(env=self.ledger_env)
        try:
            ledger = new_ledger(store)
            self.started.wait(JOIN)
            for n in range(self.ROUNDS):
                if self.writing_stopped.is_set():
                    return
                asyncio.run(self._round(ledger, n))
                head = store.recorder.max_notification_id() or 0
                with self.moved:
                    self.appended += 1
                    self.moved.notify_all()
                    self.moved.wait_for(functools.partial(self._projected, head), JOIN)
        finally:
            store.close()

    def _projected(self, head: int) -> bool:
        return self.projected >= head or self.writing_stopped.is_set()

    @staticmethod
    async def _round(ledger: Ledger, n: int) -> None:
        """A new order of two items, then a run that moves one of them; every third order
        closes the one before."""
        await ledger.handle_command(placed(f"B-{n}", ["S1", "S2"]))
        eta = ("Q4 2027", "Q1 2028")[n % 2]
        rows: dict[str, Seen] = {"S1": eta, "S2": "03/2027"}
        rows["S3"] = ("Q1 2027", Availability.SOLD_OUT)
        await feed(ledger, RunScript(rows, at=NOW + (3 + n) * HOUR))
        if n % 3 == 2:
            await ledger.handle_command(closed(f"B-{n - 1}"))

    def _poll(self) -> None:
        n = 0
        while not self.stopped.is_set():
            order = self.ORDERS[n % len(self.ORDERS)]
            status = self.client.get(f"/v1/orders/{order}", headers=self.headers).status_code
            with self.moved:
                self.answers[status] = self.answers.get(status, 0) + 1
                self.polled += 1
                self.moved.notify_all()
            n += 1


class ArrivingLate:
    """The ledger as a rebuild sees it when events come while it swaps: the first read from
    ``at`` on finds nothing, the next ones find the events."""

    def __init__(self, source: Any, at: int) -> None:
        self.source, self.at, self.found_end = source, at, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    def read(self, after: int, limit: int) -> Any:
        if after >= self.at and not self.found_end:
            self.found_end = True
            return []
        return self.source.read(after, limit)


def held_and_stored_alike(views: SqlViewStore) -> None:
    """Rows in an order no language sorts by, in more than one chunk of the checksum, with
    None, integers, non-ASCII and escapable text: stored live, and committed to a copy held in
    memory, they have one checksum; swapped in, they are stored as they were."""
    rows = awkward_rows()
    views.ensure("awkward", [AWKWARD])
    views.commit("awkward", keyed(AWKWARD, rows), (), 1, 0)
    stored = views.checksum([AWKWARD])
    # Read back together (``load_many``, some hundreds of keys a query), keys that are not there
    # left out, as one by one.
    asked = [*keyed(AWKWARD, rows)[AWKWARD], ("none", 0), ("Z", 1)]
    assert views.load_many(AWKWARD, asked) == keyed(AWKWARD, rows)[AWKWARD]
    assert views.load_many(AWKWARD, []) == {}
    with views.stage({"awkward": [AWKWARD]}) as staged:
        staged.commit("awkward", keyed(AWKWARD, rows[::-1]), (), 1, 0)
        assert (staged.spilled, staged.held_rows) == (set(), len(rows))
        assert staged.load_many(AWKWARD, asked[-3:]) == keyed(AWKWARD, rows[-1:])[AWKWARD]
        assert staged.checksum([AWKWARD]) == stored
        assert staged.swap(lambda _: None) == 1
    assert views.checksum([AWKWARD]) == stored
    assert views.load(AWKWARD, ("Z", -(2**32))) == rows[0]
    # A row committed again after a checksum made its values is written as it is now, not as
    # the checksum saw it (the swap takes the values the checksum made of the others).
    with views.stage({"awkward": [AWKWARD]}) as staged:
        staged.commit("awkward", keyed(AWKWARD, rows), (), 1, 0)
        assert staged.checksum([AWKWARD]) == stored
        changed = {**rows[0], "note": "changed after the checksum", "doc": {"v": 2}}
        staged.commit("awkward", keyed(AWKWARD, [changed]), (), 2, 0)
        assert staged.swap(lambda _: None) == 2
    assert views.load(AWKWARD, ("Z", -(2**32))) == changed
    assert views.load(AWKWARD, ("a", -(2**32))) == rows[1]
    checked_as_swapped(views, rows, stored)


def checked_as_swapped(views: SqlViewStore, rows: list[Row], stored: str) -> None:
    """``swap_checked``: the copies' checksum as they were staged, made while the swap writes
    (SQLite: it drops the old tables meanwhile), or before the live views' further events
    move them on; and a swap that fails on the way leaves the live views as they were."""
    views.commit("awkward", keyed(AWKWARD, rows[:1]), (), 3, views.generation("awkward"))
    live = views.checksum([AWKWARD])
    with views.stage({"awkward": [AWKWARD]}) as staged:
        staged.commit("awkward", keyed(AWKWARD, rows), (), 3, 0)
        assert staged.swap_checked(lambda _: None, {"awkward": [AWKWARD]}) == (3, {"awkward": live})
    assert views.checksum([AWKWARD]) == live == stored
    # The live views further on (at 5): the copy (at 4) is checked first, then caught up.
    views.commit("awkward", {}, (), 5, views.generation("awkward"))
    later = {**rows[2], "note": "applied by behind"}
    caught_up: list[int] = []

    def behind(position: int) -> None:
        caught_up.append(position)
        staged.commit("awkward", keyed(AWKWARD, [later]), (), position, 0)

    with views.stage({"awkward": [AWKWARD]}) as staged:
        staged.commit("awkward", keyed(AWKWARD, rows), (), 4, 0)
        assert staged.swap_checked(behind, {"awkward": [AWKWARD]}) == (5, {"awkward": stored})
    assert caught_up == [5]
    assert views.load(AWKWARD, (later["name"], later["n"])) == later
    # A swap that fails after the old table is dropped is rolled back whole.
    before = views.position_and_checksum("awkward", [AWKWARD])
    with views.stage({"awkward": [AWKWARD]}) as staged:
        staged.commit("awkward", keyed(AWKWARD, rows[:10]), (), 6, 0)
        create = staged._create_live

        def create_then_fail(*args: Any) -> None:
            create(*args)
            raise CrashError("the disk filled up")

        staged._create_live = create_then_fail  # type: ignore[method-assign, assignment]
        with pytest.raises(CrashError):
            staged.swap_checked(lambda _: None, {"awkward": [AWKWARD]})
    assert views.position_and_checksum("awkward", [AWKWARD]) == before
    assert views.load(AWKWARD, (later["name"], later["n"])) == later


def replay(projector: Projector, staged: SqlStaged) -> list[tuple[set[str], dict[str, int]]]:
    """Catch ``staged`` up a batch at a time: after each, the projections spilled and the rows
    held in memory per table."""
    steps = []
    while projector.step():
        held = {name: len(rows) for name, rows in staged.held.items()}
        steps.append((set(staged.spilled), held))
    return steps


AWKWARD = Table(
    "qa_test_awkward",
    key=("name", "n"),
    columns=("note", "count"),
    ints=frozenset({"n", "count"}),
)
"""A table of the checksum test: text and integer keys, a text and an integer column."""


def awkward_rows() -> list[Row]:
    """12,000 rows: upper case before lower, accents and a character beyond 16 bits after them
    (in code point order, which is UTF-8's byte order), "10" before "9", integers past 32 bits."""
    names = ["Z", "a", "z", "á", "Ž", "é", "10", "9", "\ufb01", "\U0001f38e", "", "a b"]
    notes = [None, "", "Příliš žluťoučký kůň", "tab\there", "line\nbreak", "back\\slash"]
    counts = [None, 0, -5, 2**53 + 1]
    rows: list[Row] = []
    for n in range(-1, 999):
        for i, name in enumerate(names):
            doc = {"ä": None, "list": [n, "ž", None], "empty": {}} if n % 2 else ["\u0000", n]
            note, count = notes[(n + i) % len(notes)], counts[(n + i) % len(counts)]
            rows.append({"name": name, "n": n * 2**32, "note": note, "count": count, "doc": doc})
    return rows


ITEMS_SEEN = Table("qa_test_items_seen", key=("supplier", "sku"))
CHANGES_SEEN = Table(
    "qa_test_changes_seen", key=("supplier",), columns=("changes",), ints=frozenset({"changes"}),
    doc=False,
)  # fmt: skip
COUNT_CHANGE = Statement(
    "INSERT INTO qa_test_changes_seen (supplier, changes) VALUES (?, 1) "
    "ON CONFLICT (supplier) DO UPDATE SET changes = qa_test_changes_seen.changes + 1",
    (CHANGES_SEEN,),
)


class CountingChanges:
    """A projection of documents (each item as last seen) and of one set-based table (item
    changes per supplier), which has no change before the first item moves."""

    name = "test_counting"
    tables: tuple[Table, ...] = (ITEMS_SEEN, CHANGES_SEEN)
    retired: tuple[str, ...] = ()

    def prefetch(self, facts: Sequence[Fact], rows: Rows) -> None:
        """It only writes."""

    def apply(self, fact: Fact, rows: Rows) -> None:
        if isinstance(fact, ITEM_FACTS):
            key = {"supplier": fact.supplier, "sku": fact.sku}
            rows.put(ITEMS_SEEN, {**key, "doc": {"seq": fact.seq, "kind": type(fact).__name__}})
            if not isinstance(fact, ItemBaselined):
                rows.run(COUNT_CHANGE, (fact.supplier,))


def crafted_order_rows() -> list[Row]:
    """Rows of the orders projection as a test makes them, for what its SQL reads of them."""
    quoted = "Příliš 'žluťoučký' \"kůň\" \\ \\u0000 \U0001f38e"  # a backslash, then "u0000"
    odd = f"{quoted} \x00"  # and a NUL, where the tables take one: in the documents
    state = {
        "availability": "pre_order",
        "availability_raw": odd,
        "eta": {"raw": odd, "earliest": "2027-03-01", "latest": "2027-03-31", "precision": "month"},
        "missing": False,
        "last_changed_at": "2026-11-29T06:28:32.359667+00:00",
    }
    items = [
        ("acme", "S1", state),
        ("acme", "NEVER-OBSERVED", None),
        ('o\'brien "&" co', quoted, {**state, "availability": "sold_out"}),
        ("acme", "\\u0000", {**state, "missing": True}),  # a backslash, then "u0000"
        ("acme", "UNORDERED", state),
    ]
    rows: list[Row] = [
        {"supplier": s, "sku": k, "state": None if v is None else json.dumps(v), "doc": {}}
        for s, k, v in items
    ]

    def line(n: int, supplier: str, sku: str, **more: Any) -> dict[str, Any]:
        return {
            "line_no": n, "supplier": supplier, "sku": sku, "name": f"{odd} {n}", "quantity": n,
            "eta_at_order": None, "delay_days": None, "history": [], **more,
        }  # fmt: skip

    lines = [line(n, s, k) for n, (s, k, _) in enumerate(items[:4], start=1)]
    lines += [line(5, "acme", "S1"), line(6, "acme", "NO-ROW")]  # S1 twice; an item no row has
    shown = {
        "availability": "in_stock", "availability_raw": "", "eta": None, "missing": False,
        "status_changed_at": None,
    }  # fmt: skip
    for shop_order_id, status, order_lines in [
        ("OPEN-1", OPEN, lines),
        (f"OPEN-{quoted}", OPEN, lines[::-1]),
        ("NO-LINES", OPEN, []),
        ("CLOSED-1", "fulfilled", [{**x, "state": shown} for x in lines]),
    ]:
        rows.append(
            {
                "shop_order_id": shop_order_id,
                "customer_id": quoted,
                "status": status,
                "placed_at": "2026-11-29T06:28:32.359667+00:00",
                "changed_at": "2026-11-29T06:28:32.359667+00:00",
                "changed_seq": 1,
                "max_delay_days": None,
                "doc": {
                    "customer_name": odd,
                    "locale": "cs",
                    "closed_at": None,
                    "lines": order_lines,
                    "notifications": [],
                },
            }
        )
    return rows
