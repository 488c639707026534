"""Prometheus metrics of the notifier, in a registry of its own (one per application)."""

import datetime as dt

from prometheus_client import CollectorRegistry, Counter, Histogram


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.received = Counter(
            "etawatch_notifier_changes_received",
            "Changes stored to be told (after deduplication).",
            registry=self.registry,
        )
        self.sent = Counter(
            "etawatch_notifier_sent",
            "Emails accepted by the mail server.",
            ["kind"],
            registry=self.registry,
        )
        self.failed = Counter(
            "etawatch_notifier_failed",
            "Notifications given up on.",
            ["reason"],
            registry=self.registry,
        )
        self.retried = Counter(
            "etawatch_notifier_retried",
            "Deliveries postponed after a temporary failure.",
            registry=self.registry,
        )
        self.suppressed = Counter(
            "etawatch_notifier_suppressed",
            "Changes or alerts not told, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.pruned = Counter(
            "etawatch_notifier_pruned_rows",
            "Finished rows deleted after the retention, by table.",
            ["table"],
            registry=self.registry,
        )
        self.queue_delay = Histogram(
            "etawatch_notifier_queue_delay_seconds",
            "From the first covered change's arrival to the email's acceptance.",
            buckets=(1, 10, 60, 300, 900, 1800, 2700, 3600, 7200, 21600, 86400),
            registry=self.registry,
        )

    def observe_delay(self, delay: dt.timedelta) -> None:
        self.queue_delay.observe(max(delay.total_seconds(), 0.0))
