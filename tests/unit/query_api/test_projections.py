"""The read models, fact by fact, in memory."""

import datetime as dt
import uuid
from typing import Any

import orjson

from etawatch.query_api.domain import facts as f
from etawatch.query_api.domain.projections.catalog import CHANGES, ITEM_HISTORY, ITEMS
from etawatch.query_api.domain.projections.orders import order_from_rows
from etawatch.query_api.domain.projections.registry import all_projections
from etawatch.query_api.domain.projections.runs import HEALTH, RUNS
from etawatch.query_api.domain.rows import Key, MemoryRows, Row, Table
from etawatch.query_api.domain.timefmt import iso
from etawatch.query_api.entrypoints.api.schemas import (
    ChangeOut,
    ItemHistoryEntryOut,
    ItemOut,
    OrderOut,
    RunOut,
    SupplierHealthOut,
)

T0 = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
RUN = uuid.UUID(int=7)


def eta(raw: str, earliest: str | None = None, latest: str | None = None) -> dict[str, Any]:
    precision = "month" if earliest else "unknown"
    return {"raw": raw, "earliest": earliest, "latest": latest, "precision": precision}


MARCH = eta("03/2027", "2027-03-01", "2027-03-31")
MAY = eta("05/2027", "2027-05-01", "2027-05-31")


class Story:
    """Facts numbered in the order they happen, applied to every projection."""

    def __init__(self) -> None:
        self.rows = MemoryRows()
        self.seq = 0
        self.projections = list(all_projections().values())

    def __call__(self, kind: type[f.Fact], **fields: Any) -> None:
        self.seq += 1
        moments = {k: iso(v) for k, v in fields.items() if isinstance(v, dt.datetime)}
        at = iso(T0 + dt.timedelta(minutes=self.seq))
        fact = kind(seq=self.seq, at=at, **{**fields, **moments})
        for projection in self.projections:
            projection.apply(fact, self.rows)

    def order(self, shop_order_id: str) -> dict[str, Any] | None:
        """The order as the API answers it, read with the API's own queries."""
        found = order_from_rows(self.rows, shop_order_id)
        if found is None:
            return None
        doc: dict[str, Any] = orjson.loads(orjson.dumps(found))
        OrderOut.model_validate(doc)  # what is served is what the API documents
        return doc

    def known_order(self, shop_order_id: str) -> dict[str, Any]:
        order = self.order(shop_order_id)
        assert order is not None
        return order


def opened(story: Story, shop_order_id: str, *skus: str) -> None:
    story(
        f.OrderOpened,
        shop_order_id=shop_order_id,
        customer_id="c1",
        customer_name="Jana",
        locale="cs",
        placed_at=T0,
        lines=tuple(f.LineFact("acme", sku, f"Figure {sku}", 1) for sku in skus),
    )


def seen(story: Story, sku: str, when: dict[str, Any] = MARCH) -> None:
    story(
        f.ItemBaselined,
        supplier="acme",
        sku=sku,
        name=f"Figure {sku}",
        availability="pre_order",
        availability_raw="Předobjednávka",
        eta=when,
        run_id=RUN,
    )


def moved(story: Story, sku: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    story(
        f.ItemChanged,
        supplier="acme",
        sku=sku,
        previous_eta=before,
        eta=after,
        change_kind="eta_later",
        shift_days=61,
        run_id=RUN,
    )


def line_changed(story: Story) -> None:
    """The ledger's record that S1 moving from March to May touched A-1's line."""
    story(
        f.LineChanged,
        shop_order_id="A-1",
        change_id="ch-1",
        supplier="acme",
        sku="S1",
        previous_availability="pre_order",
        availability="pre_order",
        previous_eta=MARCH,
        eta=MAY,
        change_kind="eta_later",
        shift_days=61,
        observed_at=T0,
    )


def notified(story: Story) -> None:
    """The customer of A-1 was told of that change by email."""
    story(
        f.CustomerWasNotified,
        shop_order_id="A-1",
        notification_id="n-1",
        channel="email",
        subject="Nový termín",
        sent_at=T0,
        change_ids=("ch-1",),
    )


def test_a_line_takes_the_supplier_state_and_counts_days_it_slipped_since_the_order() -> None:
    story = Story()
    opened(story, "A-1", "S1")
    line = story.known_order("A-1")["lines"][0]
    assert (line["availability"], line["eta"], line["delay_days"]) == (None, None, None)
    seen(story, "S1")
    moved(story, "S1", MARCH, MAY)
    order = story.known_order("A-1")
    line = order["lines"][0]
    assert line["eta"] == MAY
    assert line["eta_at_order"] == MARCH
    assert line["delay_days"] == 61
    assert order["max_delay_days"] == 61
    assert line["status_changed_at"] == order["changed_at"]


def test_an_order_placed_after_a_sighting_starts_from_that_state() -> None:
    story = Story()
    seen(story, "S1")
    opened(story, "A-1", "S1")
    line = story.known_order("A-1")["lines"][0]
    assert line["eta"] == MARCH
    assert line["delay_days"] == 0


def test_a_closed_order_keeps_the_state_it_closed_with() -> None:
    story = Story()
    seen(story, "S1")
    opened(story, "A-1", "S1")
    story(f.OrderEnded, shop_order_id="A-1", reason="cancelled", closed_at=T0)
    moved(story, "S1", MARCH, MAY)
    order = story.known_order("A-1")
    assert order["status"] == "cancelled"
    assert order["lines"][0]["eta"] == MARCH


def test_an_item_change_moves_every_open_line_of_it_and_each_order_s_largest_delay() -> None:
    story = Story()
    seen(story, "S1")
    seen(story, "S2")
    opened(story, "A-1", "S1", "S2")
    opened(story, "A-2", "S1")
    story(f.OrderEnded, shop_order_id="A-2", reason="fulfilled", closed_at=T0)
    moved(story, "S1", MARCH, MAY)
    moved(story, "S2", MARCH, MAY)
    moved(story, "S1", MAY, MARCH)
    order = story.known_order("A-1")
    assert [(x["sku"], x["eta"], x["delay_days"]) for x in order["lines"]] == [
        ("S1", MARCH, 0),
        ("S2", MAY, 61),
    ]
    assert order["max_delay_days"] == 61
    assert order["changed_at"] == order["lines"][0]["status_changed_at"]
    closed = story.known_order("A-2")
    assert (closed["lines"][0]["eta"], closed["max_delay_days"]) == (MARCH, 0)


def test_a_line_waits_for_its_first_dated_eta() -> None:
    story = Story()
    seen(story, "S1", eta("TBA"))
    opened(story, "A-1", "S1")
    line = story.known_order("A-1")["lines"][0]
    assert (line["eta"], line["eta_at_order"], line["delay_days"]) == (eta("TBA"), None, None)
    moved(story, "S1", eta("TBA"), MARCH)
    moved(story, "S1", MARCH, MAY)
    line = story.known_order("A-1")["lines"][0]
    assert (line["eta_at_order"], line["delay_days"]) == (MARCH, 61)


def test_the_same_order_twice_is_one_order_and_lines_come_and_go() -> None:
    story = Story()
    opened(story, "A-1", "S1")
    opened(story, "A-1", "S9")
    story(f.OrderLineAdded, shop_order_id="A-1", line=f.LineFact("acme", "S2", "Figure S2", 3))
    story(f.OrderLineRemoved, shop_order_id="A-1", supplier="acme", sku="S1")
    assert [(x["sku"], x["line_no"]) for x in story.known_order("A-1")["lines"]] == [("S2", 2)]


def test_line_history_and_notifications_are_on_the_order() -> None:
    story = Story()
    seen(story, "S1")
    opened(story, "A-1", "S1")
    line_changed(story)
    notified(story)
    story(
        f.NotificationWasRefused,
        shop_order_id="A-1",
        notification_id="n-2",
        reason="invalid_address",
        detail="550 no such user",
        failed_at=T0,
        change_ids=("ch-1",),
    )
    order = story.known_order("A-1")
    assert [h["change_id"] for h in order["lines"][0]["history"]] == ["ch-1"]
    assert [(n["notification_id"], n["outcome"]) for n in order["notifications"]] == [
        ("n-1", "sent"),
        ("n-2", "failed"),
    ]
    assert "550" in order["notifications"][1]["reason"]


def _stored(table: Table, row: Row) -> bytes:
    return orjson.dumps([row[c] for c in table.all_columns])


class WatchedRows(MemoryRows):
    """Rows that notice one changed in place and not put back. A rebuild writes a row it holds
    with the values its checksum made of it unless the row was committed again since
    (``SqlStaged.made``): a change not put back would be lost there, and in the live views."""

    def __init__(self) -> None:
        super().__init__()
        self.got: dict[tuple[str, Key], tuple[Table, bytes]] = {}
        self.put_back: set[tuple[str, Key]] = set()

    def get(self, table: Table, key: Key) -> Row | None:
        row = super().get(table, key)
        if row is not None:
            self.got.setdefault((table.name, key), (table, _stored(table, row)))
        return row

    def put(self, table: Table, row: Row) -> None:
        super().put(table, row)
        self.put_back.add((table.name, table.key_of(row)))

    def changed_in_place(self) -> list[tuple[str, Key]]:
        """The rows got and changed since the last call, but not put back."""
        changed = []
        for (name, key), (table, before) in self.got.items():
            now = MemoryRows.get(self, table, key)
            if (
                (name, key) not in self.put_back
                and now is not None
                and _stored(table, now) != before
            ):
                changed.append((name, key))
        self.got.clear()
        self.put_back.clear()
        return changed


class WatchedStory(Story):
    def __init__(self) -> None:
        super().__init__()
        self.rows = self.watched = WatchedRows()
        self.changed: list[tuple[str, Key]] = []

    def __call__(self, kind: type[f.Fact], **fields: Any) -> None:
        super().__call__(kind, **fields)
        self.changed.extend(self.watched.changed_in_place())


def test_every_row_a_fact_changes_is_put_back() -> None:
    story = WatchedStory()
    seen(story, "S1")
    seen(story, "S2")
    opened(story, "A-1", "S1", "S2", "S9")
    opened(story, "A-2", "S1", "S1")
    story(f.OrderLineAdded, shop_order_id="A-1", line=f.LineFact("acme", "S3", "Figure S3", 1))
    moved(story, "S1", MARCH, MAY)
    line_changed(story)
    notified(story)
    story(f.ItemWentMissing, supplier="acme", sku="S2", run_id=RUN)
    story(f.OrderLineRemoved, shop_order_id="A-1", supplier="acme", sku="S2")
    story(f.OrderEnded, shop_order_id="A-2", reason="cancelled", closed_at=T0)
    story(f.OrderLineAdded, shop_order_id="A-2", line=f.LineFact("acme", "S9", "Figure S9", 1))
    moved(story, "S1", MAY, eta("TBA"))
    moved(story, "S9", eta("TBA"), MARCH)
    story(f.OrderEnded, shop_order_id="A-1", reason="fulfilled", closed_at=T0)
    story(f.OrderEnded, shop_order_id="A-1", reason="cancelled", closed_at=T0)
    assert story.known_order("A-1")["status"] == "cancelled"
    assert story.changed == []


def test_facts_about_unknown_orders_change_nothing() -> None:
    story = Story()
    story(f.OrderEnded, shop_order_id="NOPE", reason="fulfilled", closed_at=T0)
    assert story.order("NOPE") is None


def test_items_their_history_and_the_change_feed() -> None:
    story = Story()
    seen(story, "S1")
    moved(story, "S1", MARCH, MAY)
    story(f.ItemWentMissing, supplier="acme", sku="S1", run_id=RUN)
    story(
        f.ItemCameBack,
        supplier="acme",
        sku="S1",
        availability="in_stock",
        availability_raw="Skladem",
        eta=eta("skladem"),
        run_id=RUN,
    )
    item = story.rows.get(ITEMS, ("acme", "S1"))
    assert item is not None
    ItemOut.model_validate(item["doc"])
    assert (item["doc"]["availability"], item["doc"]["missing"], item["doc"]["change_count"]) == (
        "in_stock",
        False,
        3,
    )
    history = [r["doc"] for r in story.rows.rows(ITEM_HISTORY)]
    for entry in history:
        ItemHistoryEntryOut.model_validate(entry)
    assert [h["kind"] for h in history] == ["baseline", "changed", "missing", "returned"]
    feed = [r["doc"] for r in story.rows.rows(CHANGES)]
    for change in feed:
        ChangeOut.model_validate(change)
    assert [c["kind"] for c in feed] == ["changed", "missing", "returned"]
    assert feed[0]["previous_eta"] == MARCH


def test_runs_add_up_their_partitions_and_health_counts_failures() -> None:
    story = Story()
    run, failed = uuid.UUID(int=1), uuid.UUID(int=2)
    for partition in (0, 1):
        story(
            f.RunCompared,
            run_id=run,
            supplier="acme",
            partition=partition,
            started_at=T0,
            finished_at=T0 + dt.timedelta(minutes=partition),
            observations=10,
            unseen=partition,
        )
    story(f.RunSucceeded, run_id=run, supplier="acme", finished_at=T0)
    story(f.RunFailed, run_id=failed, supplier="acme", reason="timeout", message="t", failed_at=T0)
    story(
        f.SupplierDegraded,
        supplier="acme",
        consecutive_failures=3,
        last_reason="timeout",
        failing_since=T0,
    )
    done = story.rows.get(RUNS, (str(run),))
    assert done is not None
    RunOut.model_validate(done["doc"])
    assert (done["doc"]["observations"], done["doc"]["unseen"], done["doc"]["outcome"]) == (
        20,
        1,
        "complete",
    )
    assert (done["doc"]["items_seen"], done["doc"]["pages"]) == (None, None)  # not reported
    assert [done["doc"][name] for name in QUALITY] == [None, None, None]
    health = story.rows.get(HEALTH, ("acme",))
    assert health is not None
    SupplierHealthOut.model_validate(health["doc"])
    assert (health["doc"]["runs"], health["doc"]["degraded"]) == (2, True)
    assert health["doc"]["consecutive_failures"] == 3


QUALITY = ("unknown_availability", "unreadable_eta", "duplicate_skus")


def test_a_truncated_run_shows_the_data_quality_counts_the_scraper_reported() -> None:
    story = Story()
    run = uuid.UUID(int=1)
    story(
        f.RunFailed,
        run_id=run,
        supplier="acme",
        reason="truncated",
        message="table much shorter than last time",
        failed_at=T0,
        items_seen=40,
        unknown_availability=2,
        unreadable_eta=0,
        duplicate_skus=5,
    )
    row = story.rows.get(RUNS, (str(run),))
    assert row is not None
    shown = RunOut.model_validate(row["doc"])
    assert (shown.outcome, shown.items_seen) == ("failed", 40)
    assert (shown.unknown_availability, shown.unreadable_eta, shown.duplicate_skus) == (2, 0, 5)
