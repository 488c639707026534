"""The ledger's application tests, written once and run against every store.

Subclasses only say which store: ``tests/unit/ledger`` runs them in memory (POPO),
``tests/integration/ledger`` against SQLite and PostgreSQL, like eventsourcing's own examples.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import open_as
from etawatch.contracts.ids import item_id, order_id
from etawatch.contracts.messages import ChangeKind, ETAChanged, ItemMissing, ScrapeHealthDegraded
from etawatch.ledger.application.relay import pending
from etawatch.ledger.application.service import Ledger
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.health import RunFailed, RunSucceeded
from etawatch.ledger.domain.item import SupplierItem
from etawatch.ledger.domain.order import Order
from etawatch.ledger.domain.values import supplier_health_id
from etawatch.runtime.bus import PoisonMessage
from etawatch_testing.ledger import (
    NOW,
    RecordingBus,
    RunScript,
    closed,
    feed,
    new_ledger,
    notified,
    observed,
    placed,
    topics,
)

HOUR = NOW.resolution * 3_600_000_000


def later(hours: int) -> Any:
    return NOW + HOUR * hours


class LedgerApplicationCases:
    """Behaviour of the ledger, whatever the store."""

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[LedgerStore]:
        store = LedgerStore(env=self.env())
        yield store
        store.close()

    @pytest.fixture
    def ledger(self, store: LedgerStore) -> Ledger:
        return new_ledger(store, missing_after_runs=2, degraded_after_failures=3)

    async def test_first_sighting_is_a_baseline_not_a_change(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "03/2027"}))
        names = topics(store)
        assert names.count("SupplierItem.FirstSeen") == 2
        assert "Order.LineItemChanged" not in names
        bus = RecordingBus()
        assert await ledger.relay_once(bus) == 0

    async def test_a_later_window_is_one_eta_changed_per_open_line(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", {"S1": 2}))
        await ledger.handle_command(placed("A-2", ["S1", "S2"]))
        await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "03/2027"}))
        run = await feed(ledger, RunScript({"S1": "Q3 2027", "S2": "03/2027"}, at=later(1)))
        bus = RecordingBus()
        assert await ledger.relay_once(bus) == 2
        changes = [open_as(p.envelope.model_dump(mode="json"), ETAChanged) for p in bus.published]
        by_order = {c.data.shop_order_id: c.data for c in changes}
        assert set(by_order) == {"A-1", "A-2"}
        change = by_order["A-1"]
        assert change.sku == "S1"
        assert change.quantity == 2
        assert change.change_kind is ChangeKind.ETA_LATER
        assert change.shift_days == 92  # 30 June -> 30 September
        assert change.previous_eta is not None
        assert change.previous_eta.raw == "Q2 2027"
        assert change.new_eta.raw == "Q3 2027"
        assert change.run_id == run.run_id
        assert change.email == "a-1@example.com"
        assert {p.routing_key for p in bus.published} == {"eta.changed.acme"}
        assert topics(store).count("SupplierItem.EtaChanged") == 1

    async def test_new_wording_of_the_same_window_is_not_a_change(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await feed(ledger, RunScript({"S1": "03/2027"}))
        before = topics(store)
        await feed(ledger, RunScript({"S1": "březen 2027"}, at=later(1)))
        after = topics(store)[len(before) :]
        assert after.count("RunLog.RunCompared") == ledger.options.partitions
        assert [t for t in after if t.startswith(("SupplierItem", "Order"))] == []

    async def test_availability_change_names_the_most_important_kind(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await feed(ledger, RunScript({"S1": "Q2 2027"}))
        await feed(ledger, RunScript({"S1": ("Q3 2027", Availability.SOLD_OUT)}, at=later(1)))
        bus = RecordingBus()
        await ledger.relay_once(bus)
        (change,) = [open_as(p.envelope.model_dump(mode="json"), ETAChanged) for p in bus.published]
        assert change.data.change_kind is ChangeKind.SOLD_OUT
        assert change.data.previous_availability is Availability.PRE_ORDER
        assert change.data.new_availability is Availability.SOLD_OUT
        assert change.data.shift_days == 92
        names = topics(store)
        assert "SupplierItem.AvailabilityChanged" in names
        assert "SupplierItem.EtaChanged" in names

    async def test_failed_and_incomplete_runs_change_nothing(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "Q2 2027"}))
        for outcome, hours in (("incomplete", 1), ("failed", 2)):
            await feed(ledger, RunScript({"S1": "Q4 2027"}, at=later(hours), outcome=outcome))
        names = topics(store)
        assert "SupplierItem.EtaChanged" not in names
        assert "SupplierItem.WentMissing" not in names
        assert names.count("RunLog.RunNotCompared") == 2 * ledger.options.partitions
        assert await ledger.relay_once(RecordingBus()) == 0

    async def test_missing_only_after_consecutive_complete_runs_then_returned(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S2"]))
        await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "Q2 2027"}))
        await feed(ledger, RunScript({"S1": "Q2 2027"}, at=later(1)))
        await feed(ledger, RunScript({"S1": "Q2 2027"}, at=later(2), outcome="failed"))
        assert "SupplierItem.WentMissing" not in topics(store)
        await feed(ledger, RunScript({"S1": "Q2 2027"}, at=later(3)))
        assert topics(store).count("SupplierItem.WentMissing") == 1
        await feed(ledger, RunScript({"S1": "Q2 2027"}, at=later(4)))
        assert topics(store).count("SupplierItem.WentMissing") == 1  # once, not every run
        await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "Q2 2027"}, at=later(5)))
        assert topics(store).count("SupplierItem.Returned") == 1
        bus = RecordingBus()
        await ledger.relay_once(bus)
        assert [p.envelope.type for p in bus.published] == [
            "etawatch.item.missing.v1",
            "etawatch.item.returned.v1",
        ]
        missing = open_as(bus.published[0].envelope.model_dump(mode="json"), ItemMissing)
        assert missing.data.complete_runs_without == 2
        assert missing.data.sku == "S2"

    async def test_older_runs_and_late_observations_never_turn_the_clock_back(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await feed(ledger, RunScript({"S1": "Q2 2027"}, at=later(5)))
        await feed(ledger, RunScript({"S1": "Q3 2027"}, at=later(6)))
        before = topics(store)
        await feed(ledger, RunScript({"S1": "Q1 2027"}, at=later(2)))  # an older run, late
        after = topics(store)[len(before) :]
        assert after.count("RunLog.RunNotCompared") == ledger.options.partitions
        assert [t for t in after if t.startswith(("SupplierItem", "Order"))] == []
        item: SupplierItem = store.repository.get(item_id("acme", "S1"))
        assert item.eta["raw"] == "Q3 2027"

    async def test_a_redelivered_run_changes_nothing(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await feed(ledger, RunScript({"S1": "Q2 2027"}))
        run = RunScript({"S1": "Q3 2027"}, at=later(1))
        await feed(ledger, run)
        before = topics(store)
        await feed(ledger, run)
        for partition in range(ledger.options.partitions):  # one row alone, after its run
            await ledger.handle_batch([observed(run.run_id, "S1", "Q4 2027")], partition)
        assert topics(store) == before

    async def test_order_commands_twice_are_one_and_closed_orders_are_left_alone(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await ledger.handle_command(placed("A-1", ["S1"]))
        await ledger.handle_command(placed("A-1", ["S1", "S2"]))  # amended: a line added
        await ledger.handle_command(placed("A-1", ["S2"]))  # and one removed
        await ledger.handle_command(closed("A-1"))
        await ledger.handle_command(closed("A-1"))
        assert topics(store) == [
            "Order.Placed",
            "Order.LineAdded",
            "Order.LineRemoved",
            "Order.Closed",
        ]
        await feed(ledger, RunScript({"S2": "Q2 2027"}))
        await feed(ledger, RunScript({"S2": "Q4 2027"}, at=later(1)))
        assert "Order.LineItemChanged" not in topics(store)

    async def test_what_the_customer_was_told_is_on_the_order(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await ledger.handle_command(notified("A-1", ["c1"]))
        await ledger.handle_command(notified("A-1", ["c1"]))
        order: Order = store.repository.get(order_id("A-1"))
        assert len(order.notifications) == 1
        with pytest.raises(PoisonMessage, match="never placed"):
            await ledger.handle_command(notified("NOPE", ["c1"]))
        with pytest.raises(PoisonMessage, match="never placed"):
            await ledger.handle_command(closed("NOPE"))

    async def test_repeated_failed_runs_degrade_supplier_health_once(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        for hours in range(5):
            await feed(ledger, RunScript({}, at=later(hours), outcome="failed"))
        bus = RecordingBus()
        await ledger.relay_once(bus)
        (degraded,) = bus.published
        message = open_as(degraded.envelope.model_dump(mode="json"), ScrapeHealthDegraded)
        assert message.data.consecutive_failures == 3
        assert degraded.routing_key == "health.degraded.acme"

    async def test_a_run_outcome_keeps_what_the_scraper_reported(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        done = await feed(
            ledger, RunScript({"S1": "Q2 2027", "S2": "Q2 2027"}, pages=2, quality=(1, 2, 3))
        )
        short = RunScript(
            {"S1": "Q2 2027"}, at=later(1), outcome="incomplete", pages=3, quality=(0, 4, 1)
        )
        await feed(ledger, short)
        broken = RunScript({}, at=later(2), outcome="failed", artifacts=("acme/run/page.png",))
        await feed(ledger, broken)
        outcomes = {
            e.run_id: e
            for e in store.events.get(supplier_health_id("acme"))
            if isinstance(e, RunSucceeded | RunFailed)
        }
        fields = ("reason", "started_at", "items_seen", "pages", "artifacts")
        reported = {
            run_id: tuple(getattr(e, name, "-") for name in fields)
            for run_id, e in outcomes.items()
        }
        assert reported == {
            done.run_id: ("-", NOW, 2, 2, "-"),
            short.run_id: ("truncated", later(1), 1, 3, []),
            broken.run_id: ("login_failed", later(2), None, None, ["acme/run/page.png"]),
        }  # a run that failed reports no counts
        quality = {
            run_id: (e.unknown_availability, e.unreadable_eta, e.duplicate_skus)
            for run_id, e in outcomes.items()
        }
        assert quality == {
            done.run_id: (1, 2, 3),
            short.run_id: (0, 4, 1),  # a truncated run keeps its counts
            broken.run_id: (None, None, None),
        }

    async def test_fewer_items_seen_than_rows_received_is_kept_as_reported(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        """The scraper's count and the rows the ledger compared are both kept, not reconciled."""
        run = await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "Q2 2027"}, items_seen=1))
        (succeeded,) = [
            e for e in store.events.get(supplier_health_id("acme")) if isinstance(e, RunSucceeded)
        ]
        assert (succeeded.run_id, succeeded.items_seen) == (run.run_id, 1)
        assert topics(store).count("SupplierItem.FirstSeen") == 2  # every row received is compared

    async def test_relay_ids_are_stable_and_its_position_survives_a_restart(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await feed(ledger, RunScript({"S1": "Q2 2027"}))
        await feed(ledger, RunScript({"S1": "Q3 2027"}, at=later(1)))
        first, again = RecordingBus(), RecordingBus()
        ids_before = [o.envelope.id for o in pending(store, 10)]
        assert await ledger.relay_once(first) == 1
        assert first.published[0].envelope.id == ids_before[0]
        restarted = new_ledger(store)
        assert await restarted.relay_once(again) == 0
        await feed(restarted, RunScript({"S1": "Q4 2027"}, at=later(2)))
        assert await restarted.relay_once(again) == 1
        assert again.published[0].envelope.id != first.published[0].envelope.id
        uuid.UUID(again.published[0].envelope.id)

    async def test_a_restarted_ledger_rebuilds_its_state_from_the_store(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "Q2 2027"}))
        await feed(ledger, RunScript({"S1": "Q2 2027"}, at=later(1)))
        restarted = new_ledger(store, missing_after_runs=2)
        assert restarted.index.items.keys() == ledger.index.items.keys()
        await feed(restarted, RunScript({"S1": "Q3 2027"}, at=later(2)))
        names = topics(store)
        assert names.count("SupplierItem.WentMissing") == 1  # S2's count survived the restart
        assert names.count("Order.LineItemChanged") == 1

    async def test_orders_with_long_histories_are_snapshotted(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await ledger.handle_command(placed("A-1", ["S1"]))
        for n in range(60):
            await ledger.handle_command(notified("A-1", [f"c{n}"]))
        assert store.snapshots is not None
        snapshots = list(store.snapshots.get(order_id("A-1")))
        assert snapshots, "an order of 61 events has a snapshot"
        assert len(store.repository.get(order_id("A-1")).notifications) == 60

    async def test_the_in_memory_state_agrees_with_the_aggregates(
        self, ledger: Ledger, store: LedgerStore
    ) -> None:
        await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "TBA", "S3": "03/2027"}))
        await feed(ledger, RunScript({"S1": ("Q3 2027", Availability.DELAYED)}, at=later(1)))
        await feed(ledger, RunScript({"S1": "Q3 2027", "S2": "05/2027"}, at=later(2)))
        restarted = new_ledger(store)
        for index in (ledger.index, restarted.index):
            for iid, state in index.items.items():
                item: SupplierItem = store.repository.get(iid)
                assert (state.version, state.availability, state.missing) == (
                    item.version,
                    item.availability,
                    item.missing,
                )
                assert state.eta[0] == item.eta["raw"]
