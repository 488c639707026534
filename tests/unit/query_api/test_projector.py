"""Batches, positions and exactly-once, with an in-memory store and a list of facts."""

import datetime as dt
from typing import Any

import pytest
from etawatch_testing.query_api import ListSource, MemoryViewStore

from etawatch.query_api.application.batch import BatchRows
from etawatch.query_api.application.ports import PositionTaken
from etawatch.query_api.application.projector import Projector
from etawatch.query_api.application.rebuild import rebuild
from etawatch.query_api.domain import facts as f
from etawatch.query_api.domain.projections import Projection
from etawatch.query_api.domain.projections.catalog import CHANGES
from etawatch.query_api.domain.projections.orders import ORDERS
from etawatch.query_api.domain.projections.registry import all_projections
from etawatch.query_api.domain.rows import Statement, Table
from etawatch.query_api.domain.timefmt import iso

T0 = iso(dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
ETA = {"raw": "TBA", "earliest": None, "latest": None, "precision": "unknown"}


def story(n: int) -> list[f.Fact]:
    """Per item: its first sighting, an order of it, and a change that moves the order."""
    facts: list[f.Fact] = []
    for i in range(n):
        seq = len(facts) + 1
        facts.append(
            f.ItemBaselined(
                seq=seq,
                at=T0,
                supplier="acme",
                sku=f"S{i}",
                name="x",
                availability="pre_order",
                availability_raw="p",
                eta=ETA,
            )
        )
        facts.append(
            f.OrderOpened(
                seq=seq + 1,
                at=T0,
                shop_order_id=f"A-{i}",
                customer_id="c",
                customer_name="Eva",
                locale="en",
                placed_at=T0,
                lines=(f.LineFact("acme", f"S{i}", "x", 1), f.LineFact("acme", "S0", "x", 1)),
            )
        )
        facts.append(
            f.ItemChanged(seq=seq + 2, at=T0, supplier="acme", sku=f"S{i}", availability="in_stock")
        )
    return facts


def story_then(n: int, later: list[f.Fact]) -> list[f.Fact]:
    """``story(n)``, then ``later``, numbered on from it."""
    facts = story(n)
    for fact in later:
        fact.seq = len(facts) + 1
        facts.append(fact)
    return facts


SET = Table("t", key=("k",), columns=("v",), doc=False)
OPEN_LINE = Statement("INSERT INTO t (k, v) VALUES (?, 'line')", (SET,), batched=True)
OPEN_ORDER = Statement("INSERT INTO t (k, v) VALUES (?, 'order')", (SET,), batched=True)
TOUCH_ORDER = Statement("UPDATE t SET v = 'touched' WHERE k = ?", (SET,))
ADD_LINE_HISTORY = Statement("UPDATE t SET v = 'history' WHERE k = ?", (SET,))


def test_a_batch_sends_its_inserts_together_and_its_updates_in_order() -> None:
    rows = BatchRows(MemoryViewStore())
    rows.run(OPEN_LINE, ("line 1",))
    rows.run(OPEN_ORDER, ("order 1",))
    rows.run(OPEN_LINE, ("line 2",))
    rows.run(TOUCH_ORDER, ("touch 1",))
    rows.run(TOUCH_ORDER, ("touch 2",))
    rows.run(OPEN_ORDER, ("order 2",))
    rows.run(ADD_LINE_HISTORY, ("history",))
    assert rows.changes() == [
        (OPEN_LINE, [("line 1",), ("line 2",)]),
        (OPEN_ORDER, [("order 1",)]),
        (TOUCH_ORDER, [("touch 1",), ("touch 2",)]),
        (OPEN_ORDER, [("order 2",)]),
        (ADD_LINE_HISTORY, [("history",)]),
    ]


def test_a_crash_in_the_middle_of_a_batch_applies_nothing_twice() -> None:
    source, store = ListSource(story(25)), MemoryViewStore()
    projections = list(all_projections().values())
    reference = MemoryViewStore()
    Projector(source, reference, projections, batch_size=7).catch_up()

    class CrashError(Exception):
        pass

    commits = 0
    original = store.commit

    def commit_then_die(*args: object) -> None:
        nonlocal commits
        if commits == 4:
            raise CrashError
        commits += 1
        original(*args)  # type: ignore[arg-type]

    store.commit = commit_then_die  # type: ignore[method-assign,assignment]
    with pytest.raises(CrashError):
        Projector(source, store, projections, batch_size=7).catch_up()
    store.commit = original  # type: ignore[method-assign]
    Projector(source, store, projections, batch_size=7).catch_up()
    for projection in projections:
        assert store.checksum(projection.tables) == reference.checksum(projection.tables)
        assert store.position(projection.name) == 75
    assert len(list(store.rows.rows(CHANGES))) == 25
    orders = list(store.rows.rows(ORDERS))
    assert (len(orders), sum(len(o["doc"]["lines"]) for o in orders)) == (25, 50)


def test_a_second_projector_at_the_same_position_writes_nothing() -> None:
    source, store = ListSource(story(3)), MemoryViewStore()
    projections = list(all_projections().values())
    first = Projector(source, store, projections, batch_size=100)
    second = Projector(source, store, projections, batch_size=100)
    stale = {p.name: 0 for p in projections}
    first.catch_up()
    commits = store.commits
    for projection in projections:  # as if it read its position before the first committed
        second._apply(projection, stale[projection.name], 0, source.read(0, 100))
    assert store.commits == commits


def test_rebuild_replays_to_where_the_view_was_compares_and_swaps_in_at_the_head() -> None:
    source, store = ListSource(story(10)), MemoryViewStore()
    projections = all_projections()
    Projector(source, store, projections.values(), batch_size=4).catch_up()
    source.facts.extend(story(12)[30:])  # six more events after the view's position
    reference = MemoryViewStore()
    Projector(source, reference, projections.values(), batch_size=5).catch_up()
    result = rebuild(source, store, [projections["items"], projections["orders"]], batch_size=3)
    assert [(v.projection, v.position, v.equal) for v in result.views] == [
        ("items", 30, True),
        ("orders", 30, True),
    ]
    assert (result.events, result.swapped_at) == (30, 36)
    for name in ("items", "orders"):
        assert store.position(name) == 36
        assert store.generation(name) == 1
        tables = projections[name].tables
        assert store.checksum(tables) == reference.checksum(tables)
    assert store.position("runs") == 30  # not asked for: untouched


def test_catching_up_to_a_position_stops_there_across_gaps_in_the_ledger() -> None:
    """Positions need not follow one another (PostgreSQL's notification ids skip the numbers of
    transactions that rolled back): a projector told to stop at a position applies nothing
    beyond it, however many events it read, so that a rebuild compares its copy where the live
    view was, not further on."""
    facts = story(4)  # positions 1-12, then gaps
    for fact, seq in zip(facts, (1, 2, 3, 10, 11, 20, 21, 22, 30, 31, 40, 41), strict=True):
        fact.seq = seq
    source, store = ListSource(facts), MemoryViewStore()
    projector = Projector(source, store, all_projections().values(), batch_size=4)
    assert projector.catch_up(stop=11) == 5
    assert {store.position(name) for name in all_projections()} == {11}
    assert projector.catch_up(stop=25) == 3
    assert {store.position(name) for name in all_projections()} == {22}
    live = MemoryViewStore()
    Projector(source, live, all_projections().values(), batch_size=3).catch_up(stop=21)
    result = rebuild(source, live, list(all_projections().values()), batch_size=4)
    assert [(v.position, v.equal) for v in result.views] == [(21, True)] * 3


def test_a_rebuild_says_when_the_view_it_replaces_was_wrong() -> None:
    source, store = ListSource(story(3)), MemoryViewStore()
    items = all_projections()["items"]
    Projector(source, store, [items]).catch_up()
    store.rows.tables["qa_items"][("acme", "S1")]["doc"]["name"] = "tampered"
    result = rebuild(source, store, [items])
    assert not result.equal
    assert store.load(items.tables[0], ("acme", "S1"))["doc"]["name"] == "x"  # type: ignore[index]


def test_the_live_projector_may_go_on_during_a_rebuild() -> None:
    """Events the live projector applies while the copy is built reach the copy before the
    swap, which then answers from where the live view was."""
    source, store = ListSource(story(10)), MemoryViewStore()
    projections = list(all_projections().values())
    live = Projector(source, store, projections, batch_size=4)
    live.catch_up()
    more = iter([story(14)[30:36], story(14)[36:42]])

    def meanwhile(_: int) -> None:
        batch = next(more, None)
        if batch:
            source.facts.extend(batch)
            live.catch_up()

    result = rebuild(source, store, projections, batch_size=10, progress=meanwhile)
    assert result.swapped_at == 42 == store.position("orders")
    reference = MemoryViewStore()
    Projector(source, reference, projections).catch_up()
    for projection in projections:
        assert store.checksum(projection.tables) == reference.checksum(projection.tables)


def test_rows_a_projector_kept_are_dropped_when_a_rebuild_replaced_the_view() -> None:
    source, store = ListSource(story(3)), MemoryViewStore()
    items = all_projections()["items"]
    Projector(source, store, [items]).catch_up()
    store.rows.tables["qa_items"][("acme", "S1")]["doc"]["name"] = "tampered"  # a wrong view
    live = Projector(source, store, [items])
    source.facts.append(
        f.ItemChanged(seq=10, at=T0, supplier="acme", sku="S1", availability="sold_out")
    )
    live.catch_up()  # keeps the wrong row it read
    rebuild(source, store, [items])
    source.facts.append(
        f.ItemChanged(seq=11, at=T0, supplier="acme", sku="S1", availability="in_stock")
    )
    live.catch_up()
    assert store.load(items.tables[0], ("acme", "S1"))["doc"]["name"] == "x"  # type: ignore[index]


def test_a_commit_from_before_a_rebuild_is_refused() -> None:
    source, store = ListSource(story(2)), MemoryViewStore()
    items = all_projections()["items"]
    Projector(source, store, [items]).catch_up()
    rebuild(source, store, [items])
    with pytest.raises(PositionTaken):
        store.commit("items", {}, [], 7, generation=0)
    store.commit("items", {}, [], 7, generation=1)


class RebuiltWhileRead(MemoryViewStore):
    """A store that a rebuild replaces, and a new event reaches, while a projector reads
    where its views are: between its reads of one projection's position and generation."""

    def __init__(self, source: ListSource, projections: list[Projection]) -> None:
        super().__init__()
        self.source, self.projections, self.armed = source, projections, False

    def generation(self, projection: str) -> int:
        if self.armed:
            self.armed = False
            rebuild(self.source, self, self.projections)
            self.source.facts.append(
                f.ItemChanged(seq=100, at=T0, supplier="acme", sku="S1", availability="sold_out")
            )
        return super().generation(projection)


def test_a_rebuild_between_reading_a_position_and_a_generation_applies_nothing_twice() -> None:
    source = ListSource(story(3))
    projections = list(all_projections().values())
    store = RebuiltWhileRead(source, projections)
    live = Projector(source, store, projections)
    live.catch_up(stop=6)
    store.armed = True
    live.catch_up()
    reference = MemoryViewStore()
    Projector(source, reference, projections).catch_up()
    for projection in projections:
        assert store.position(projection.name) == 100
        assert store.checksum(projection.tables) == reference.checksum(projection.tables)


@pytest.mark.parametrize("limit", [None, 12])
def test_a_batch_commits_early_once_it_has_changed_enough_rows(limit: int | None) -> None:
    """Each item change rewrites the orders holding the item: with ``batch_rows`` a projection
    commits as soon as its batch has changed that many rows, and goes on from there; the views
    end the same."""
    source = ListSource(story(30))
    projections = list(all_projections().values())
    reference = MemoryViewStore()
    Projector(source, reference, projections, batch_size=90).catch_up()
    store = MemoryViewStore()
    sizes: list[int] = []
    original = store.commit

    def counting(name: str, rows: Any, *args: Any) -> None:
        sizes.append(sum(len(r) for r in rows.values()))
        original(name, rows, *args)

    store.commit = counting  # type: ignore[method-assign,assignment]
    Projector(source, store, projections, batch_size=90, batch_rows=limit).catch_up()
    for projection in projections:
        assert store.checksum(projection.tables) == reference.checksum(projection.tables)
        assert store.position(projection.name) == 90
    # One fact changes at most a few rows here (an item, its catalog rows, two orders).
    assert (max(sizes) <= 12 + 4) == (limit is not None)


def test_a_projector_keeping_no_rows_reads_those_of_a_batch_together() -> None:
    """With no rows kept between batches (``cache_rows`` 0, as a view past the live projector's
    budget), each batch reads the rows it will change together (``load_many``), the orders
    holding a changed item and the items of the orders it closes included: no row is read on
    its own. The views end as with every row kept."""
    later: list[f.Fact] = [
        f.OrderEnded(seq=0, at=T0, shop_order_id="A-3", reason="fulfilled", closed_at=T0),
        f.OrderLineRemoved(seq=0, at=T0, shop_order_id="A-4", supplier="acme", sku="S0"),
        f.OrderLineAdded(seq=0, at=T0, shop_order_id="A-5", line=f.LineFact("acme", "S9", "x", 2)),
        f.ItemChanged(seq=0, at=T0, supplier="acme", sku="S0", availability="sold_out"),
    ]
    source = ListSource(story_then(30, later))
    projections = list(all_projections().values())
    reference = MemoryViewStore()
    Projector(source, reference, projections, batch_size=7).catch_up()
    store = MemoryViewStore()
    asked: dict[str, int] = {"load": 0, "load_many": 0}
    load, load_many = store.load, store.load_many

    def one(table: Table, key: Any) -> Any:
        asked["load"] += 1
        return load(table, key)

    def many(table: Table, keys: Any) -> Any:
        asked["load_many"] += 1
        return load_many(table, keys)

    store.load, store.load_many = one, many  # type: ignore[method-assign]
    Projector(source, store, projections, batch_size=7, cache_rows=0).catch_up()
    for projection in projections:
        assert store.checksum(projection.tables) == reference.checksum(projection.tables)
    assert asked["load"] == 0
    assert asked["load_many"] > 0


def test_a_batch_reads_ahead_no_more_rows_than_it_may_change_before_it_commits() -> None:
    """``batch_rows`` bounds a batch's memory: an item's change rewrites every open order that
    holds it, and a batch commits once it has changed that many rows. The rows it reads
    together beforehand (``load_many``) are bounded the same way, not all those of the batch's
    facts; the rest are read as they are asked for. The views end the same."""
    changes: list[f.Fact] = [  # S0 is on every order: each change rewrites all 30
        f.ItemChanged(seq=0, at=T0, supplier="acme", sku="S0", availability="sold_out")
        for _ in range(3)
    ]
    source = ListSource(story_then(30, changes))
    projections = list(all_projections().values())
    reference = MemoryViewStore()
    Projector(source, reference, projections, batch_size=100).catch_up()
    store = MemoryViewStore()
    Projector(source, store, projections, batch_size=30).catch_up(stop=60)
    ahead = [0]
    load_many, commit = store.load_many, store.commit

    def many(table: Table, keys: Any) -> Any:
        ahead[-1] += len(keys)
        return load_many(table, keys)

    def counting(*args: Any) -> None:
        ahead.append(0)
        commit(*args)

    store.load_many, store.commit = many, counting  # type: ignore[method-assign,assignment]
    Projector(source, store, projections, batch_size=100, cache_rows=0, batch_rows=12).catch_up()
    for projection in projections:
        assert store.checksum(projection.tables) == reference.checksum(projection.tables)
    assert 0 < max(ahead) <= 12, ahead
