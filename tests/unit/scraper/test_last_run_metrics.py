"""The gauges `once` pushes: what the last run was, and what stays from the last complete one."""

import datetime as dt
import uuid

from prometheus_client import CollectorRegistry

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.metrics import last_run
from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.domain.validation import Report

START = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(seconds=42)
REPORT = Report(
    items_seen=300,
    pages=6,
    rows_read=301,
    unknown_availability=2,
    unreadable_eta=3,
    duplicate_skus=1,
    previous_items_seen=None,
)


def samples(registry: CollectorRegistry) -> dict[str, float]:
    return {s.name: s.value for family in registry.collect() for s in family.samples}


def test_a_complete_run_pushes_its_time_success_and_counts() -> None:
    outcome = RunOutcome(uuid.uuid4(), "p", "acme", START, END, report=REPORT)
    assert samples(last_run(outcome, END)) == {
        "etawatch_scraper_last_run_timestamp_seconds": END.timestamp(),
        "etawatch_scraper_last_run_succeeded": 1.0,
        "etawatch_scraper_last_run_duration_seconds": 42.0,
        "etawatch_scraper_last_success_timestamp_seconds": END.timestamp(),
        "etawatch_scraper_last_complete_run_rows": 300.0,
        "etawatch_scraper_last_complete_run_unknown_availability": 2.0,
        "etawatch_scraper_last_complete_run_unreadable_eta": 3.0,
        "etawatch_scraper_last_complete_run_duplicate_skus": 1.0,
    }


def test_a_failed_run_leaves_the_last_success_and_its_counts_out() -> None:
    outcome = RunOutcome(uuid.uuid4(), "p", "acme", START, END, reason=FailureReason.MAINTENANCE)
    assert samples(last_run(outcome, END)) == {
        "etawatch_scraper_last_run_timestamp_seconds": END.timestamp(),
        "etawatch_scraper_last_run_succeeded": 0.0,
        "etawatch_scraper_last_run_duration_seconds": 42.0,
    }


def test_a_run_that_ended_without_an_outcome_is_pushed_as_failed_now() -> None:
    now = END + dt.timedelta(minutes=1)
    assert samples(last_run(None, now)) == {
        "etawatch_scraper_last_run_timestamp_seconds": now.timestamp(),
        "etawatch_scraper_last_run_succeeded": 0.0,
    }
