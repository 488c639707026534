"""Events stored by an older version of a class, and the bounds of held scrape runs."""

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from etawatch_testing.ledger import (
    NOW,
    RunScript,
    feed,
    new_ledger,
    store_as_old_version,
    topics,
)

from etawatch.contracts.eta import parse_eta
from etawatch.contracts.ids import item_id
from etawatch.ledger.application.staging import Staging
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.health import SupplierHealth
from etawatch.ledger.domain.item import SupplierItem
from etawatch.ledger.domain.state import Row, eta_key
from etawatch.ledger.domain.values import supplier_health_id


def store() -> LedgerStore:
    return LedgerStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


async def test_an_eta_changed_stored_as_version_1_reads_as_version_2() -> None:
    ledger_store = store()
    ledger = new_ledger(ledger_store)
    await feed(ledger, RunScript({"S1": "Q2 2027"}))
    iid = item_id("acme", "S1")
    # What version 1 of SupplierItem.EtaChanged wrote: no shift, no shift_days, no class_version.
    v1_state = {
        "timestamp": NOW,
        "previous_eta": {
            "raw": "Q2 2027",
            "earliest": "2027-04-01",
            "latest": "2027-06-30",
            "precision": "quarter",
        },
        "eta": {
            "raw": "Q3 2027",
            "earliest": "2027-07-01",
            "latest": "2027-09-30",
            "precision": "quarter",
        },
        "observed_at": NOW + dt.timedelta(hours=1),
        "run_id": uuid.uuid4(),
        "observation_id": uuid.uuid4(),
    }
    store_as_old_version(ledger_store, iid, [(SupplierItem.EtaChanged, v1_state)], from_version=2)
    (_, changed) = list(ledger_store.events.get(iid))
    assert isinstance(changed, SupplierItem.EtaChanged)
    assert changed.shift is None
    assert changed.shift_days is None
    item: SupplierItem = ledger_store.repository.get(iid)
    assert item.eta["raw"] == "Q3 2027"
    restarted = new_ledger(ledger_store)  # the in-memory state folds the old event too
    assert restarted.index.items[iid].version == 2
    assert restarted.index.items[iid].eta[0] == "Q3 2027"


async def test_run_outcomes_stored_as_version_1_read_with_no_scraper_report() -> None:
    ledger_store = store()
    ledger = new_ledger(ledger_store)
    await feed(ledger, RunScript({"S1": "Q2 2027"}))  # Registered, RunSucceeded (version 3)
    health_id = supplier_health_id("acme")
    old_failed, old_succeeded = uuid.uuid4(), uuid.uuid4()
    # What version 1 of SupplierHealth.RunFailed and .RunSucceeded wrote: the outcome only.
    v1_events = [
        (
            SupplierHealth.RunFailed,
            {
                "timestamp": NOW,
                "run_id": old_failed,
                "reason": "timeout",
                "message": "t",
                "failed_at": NOW,
            },
        ),
        (
            SupplierHealth.RunSucceeded,
            {"timestamp": NOW, "run_id": old_succeeded, "finished_at": NOW},
        ),
    ]
    store_as_old_version(ledger_store, health_id, v1_events, from_version=3)
    (*_, failed, succeeded) = list(ledger_store.events.get(health_id))
    assert isinstance(failed, SupplierHealth.RunFailed)
    assert (failed.run_id, failed.reason, failed.failed_at) == (old_failed, "timeout", NOW)
    assert (failed.started_at, failed.items_seen, failed.pages, failed.artifacts) == (None,) * 4
    assert isinstance(succeeded, SupplierHealth.RunSucceeded)
    assert succeeded.run_id == old_succeeded
    assert (succeeded.started_at, succeeded.items_seen, succeeded.pages) == (None,) * 3
    for event in (failed, succeeded):  # upcast through version 2 to version 3
        assert quality_counts(event) == (None, None, None)
    health: SupplierHealth = ledger_store.repository.get(health_id)
    assert health.version == 4
    assert health.knows(old_failed)
    assert health.consecutive_failures == 0  # the old success came after the old failure


async def test_run_outcomes_stored_as_version_2_read_with_no_quality_counts() -> None:
    ledger_store = store()
    ledger = new_ledger(ledger_store)
    await feed(ledger, RunScript({"S1": "Q2 2027"}))  # Registered, RunSucceeded (version 3)
    health_id = supplier_health_id("acme")
    old_truncated, old_succeeded = uuid.uuid4(), uuid.uuid4()
    report = {"timestamp": NOW, "started_at": NOW, "items_seen": 7, "pages": 2}
    # What version 2 wrote: the outcome and the scraper's report, without its data-quality counts.
    v2_events = [
        (
            SupplierHealth.RunFailed,
            {
                **report,
                "run_id": old_truncated,
                "reason": "truncated",
                "message": "table much shorter than last time",
                "failed_at": NOW,
                "artifacts": [],
            },
        ),
        (SupplierHealth.RunSucceeded, {**report, "run_id": old_succeeded, "finished_at": NOW}),
    ]
    store_as_old_version(ledger_store, health_id, v2_events, from_version=3, class_version=2)
    (*_, truncated, succeeded) = list(ledger_store.events.get(health_id))
    assert isinstance(truncated, SupplierHealth.RunFailed)
    assert (truncated.run_id, truncated.reason) == (old_truncated, "truncated")
    assert (truncated.started_at, truncated.items_seen, truncated.pages) == (NOW, 7, 2)
    assert truncated.artifacts == []
    assert isinstance(succeeded, SupplierHealth.RunSucceeded)
    assert (succeeded.run_id, succeeded.items_seen, succeeded.pages) == (old_succeeded, 7, 2)
    for event in (truncated, succeeded):
        assert quality_counts(event) == (None, None, None)
    health: SupplierHealth = ledger_store.repository.get(health_id)
    assert health.version == 4
    assert health.knows(old_truncated)
    assert health.consecutive_failures == 0


def quality_counts(event: Any) -> tuple[Any, ...]:
    return (event.unknown_availability, event.unreadable_eta, event.duplicate_skus)


def row(sku: str) -> Row:
    return Row(
        sku, "Figure", "pre_order", "pre_order", eta_key(parse_eta("Q2 2027", NOW.date())), 0.0
    )


def test_rows_of_a_run_not_started_here_are_dropped() -> None:
    staging = Staging(max_runs=2, max_rows=10)
    assert not staging.add(uuid.uuid4(), row("S1"))
    assert staging.dropped_rows == 1


def test_staging_holds_a_bounded_number_of_runs_and_rows() -> None:
    staging = Staging(max_runs=2, max_rows=2)
    runs = [uuid.uuid4() for _ in range(3)]
    for run in runs:
        staging.open(run, "acme", 0.0)
    assert staging.get(runs[0]) is None  # the oldest was dropped
    assert staging.add(runs[1], row("S1"))
    assert staging.add(runs[1], row("S1"))  # the same row again is not a new row
    assert staging.add(runs[1], row("S2"))
    assert not staging.add(runs[1], row("S3"))
    staged = staging.get(runs[1])
    assert staged is not None
    assert staged.overflowed
    assert staging.held_rows == 2


async def test_an_overflowed_run_is_not_compared() -> None:
    ledger_store = store()
    ledger = new_ledger(ledger_store, max_staged_rows=1, partitions=1)
    await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "Q2 2027"}))
    assert ledger.index.items == {}
    assert ledger.stats.runs_not_compared == 1


async def test_a_run_that_changes_much_is_saved_in_parts_and_compared_once() -> None:
    ledger_store = store()
    ledger = new_ledger(ledger_store, max_events_per_save=3, partitions=1)
    saves: list[int] = []
    real_save = ledger_store.save_all

    def counting(events: Sequence[Any], aggregates: Sequence[Any]) -> Any:
        saves.append(len(events))
        return real_save(events, aggregates)

    ledger_store.save_all = counting  # type: ignore[method-assign]
    await feed(ledger, RunScript({f"S{i}": "Q2 2027" for i in range(10)}))
    assert max(saves) <= 4  # three items, or the last ones with the run log's events
    assert len(saves) >= 4
    assert topics(ledger_store).count("SupplierItem.FirstSeen") == 10
    assert topics(ledger_store).count("RunLog.RunCompared") == 1
    assert ledger.stats.runs_compared == 1
