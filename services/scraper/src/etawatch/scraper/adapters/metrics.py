"""Prometheus metrics of scrape runs: runs, failures by reason, rows, duration."""

import datetime as dt

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from etawatch.scraper.application.outcome import RunOutcome


class ScraperMetrics:
    """``RunMetrics`` on a registry of its own (tests and the demo build as many as they like)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.runs = Counter(
            "etawatch_scraper_runs",
            "Scrape runs, by outcome.",
            ["supplier", "outcome"],
            registry=self.registry,
        )
        self.failures = Counter(
            "etawatch_scraper_failures",
            "Failed scrape runs, by reason.",
            ["supplier", "reason"],
            registry=self.registry,
        )
        self.rows = Counter(
            "etawatch_scraper_rows",
            "Rows published as observations.",
            ["supplier"],
            registry=self.registry,
        )
        self.unknown_availability = Counter(
            "etawatch_scraper_unknown_availability",
            "Rows whose availability word the profile does not know.",
            ["supplier"],
            registry=self.registry,
        )
        self.unreadable_eta = Counter(
            "etawatch_scraper_unreadable_eta",
            "Rows whose ETA could not be read.",
            ["supplier"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "etawatch_scraper_run_duration_seconds",
            "Duration of a scrape run.",
            ["supplier"],
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200),
            registry=self.registry,
        )
        self.last_success = Gauge(
            "etawatch_scraper_last_success_timestamp_seconds",
            "When the last complete run finished.",
            ["supplier"],
            registry=self.registry,
        )

    def record(self, outcome: RunOutcome) -> None:
        supplier = outcome.supplier
        self.duration.labels(supplier).observe(outcome.duration_seconds)
        if outcome.reason is not None:
            self.runs.labels(supplier, "failed").inc()
            self.failures.labels(supplier, outcome.reason.value).inc()
            return
        self.runs.labels(supplier, "completed").inc()
        self.last_success.labels(supplier).set(outcome.finished_at.timestamp())
        if outcome.report is not None:
            self.rows.labels(supplier).inc(outcome.report.items_seen)
            self.unknown_availability.labels(supplier).inc(outcome.report.unknown_availability)
            self.unreadable_eta.labels(supplier).inc(outcome.report.unreadable_eta)


def last_run(outcome: RunOutcome | None, now: dt.datetime) -> CollectorRegistry:
    """One run's metrics as a Pushgateway keeps them: gauges of the last run, not counters (each
    run is a new process whose counters would start from 0).

    Pushed by adding (POST), which replaces the families pushed and keeps the others: the
    ``last_run_*`` families go with every run; ``last_success_timestamp_seconds`` and the
    ``last_complete_run_*`` counts only with a complete one, so a failed run leaves them standing.
    ``outcome`` None: the run ended before it had one (an exception, such as no broker).
    """
    registry = CollectorRegistry()

    def gauge(name: str, text: str, value: float) -> None:
        Gauge(name, text, registry=registry).set(value)

    succeeded = outcome is not None and outcome.ok
    gauge(
        "etawatch_scraper_last_run_timestamp_seconds",
        "When the last run ended.",
        (outcome.finished_at if outcome else now).timestamp(),
    )
    gauge(
        "etawatch_scraper_last_run_succeeded", "1 when the last run completed, else 0.", succeeded
    )
    if outcome is not None:
        gauge(
            "etawatch_scraper_last_run_duration_seconds",
            "How long the last run took.",
            outcome.duration_seconds,
        )
    if outcome is None or not succeeded:
        return registry
    gauge(
        "etawatch_scraper_last_success_timestamp_seconds",
        "When the last complete run finished.",
        outcome.finished_at.timestamp(),
    )
    if outcome.report is not None:
        report = outcome.report
        counts = {
            "rows": ("Rows published", report.items_seen),
            "unknown_availability": (
                "Rows of an unknown availability",
                report.unknown_availability,
            ),
            "unreadable_eta": ("Rows whose ETA could not be read", report.unreadable_eta),
            "duplicate_skus": ("Duplicate SKUs", report.duplicate_skus),
        }
        for name, (text, value) in counts.items():
            gauge(
                f"etawatch_scraper_last_complete_run_{name}", f"{text}, last complete run.", value
            )
    return registry
