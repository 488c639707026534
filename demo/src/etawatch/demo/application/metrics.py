"""What the portal served, for ``/metrics``. One registry per portal: several share a process."""

from prometheus_client import CollectorRegistry, Counter, Gauge

from etawatch.demo.domain.scenario import Scenario


class PortalMetrics:
    def __init__(self, scenario: Scenario) -> None:
        self.registry = CollectorRegistry()
        self.pages = Counter(
            "etawatch_portal_pages",
            "Table pages, JSON pages and exports served, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.logins = Counter(
            "etawatch_portal_logins",
            "Login attempts by outcome (success, invalid, locked, bad_csrf).",
            ["outcome"],
            registry=self.registry,
        )
        self.faults = Counter(
            "etawatch_portal_faults",
            "Requests a fault switch changed, by switch.",
            ["fault"],
            registry=self.registry,
        )
        day = Gauge(
            "etawatch_portal_scenario_day",
            "Days the scenario clock has moved on.",
            registry=self.registry,
        )
        day.set_function(lambda: scenario.day)
        entries = Gauge(
            "etawatch_portal_ground_truth_entries",
            "Entries in the ground-truth log (every change the scenario made).",
            registry=self.registry,
        )
        entries.set_function(scenario.ground_truth_size)
