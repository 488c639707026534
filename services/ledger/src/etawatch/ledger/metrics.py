"""Prometheus metrics of the ledger (served by ``etawatch-ledger run`` on the metrics port)."""

from prometheus_client import Counter, Gauge

OBSERVATIONS = Counter("etawatch_ledger_observations", "Observations received and held.")
EVENTS_WRITTEN = Counter("etawatch_ledger_events_written", "Domain events stored.")
RUNS = Counter("etawatch_ledger_runs", "Scrape runs decided, per partition.", ["outcome"])
CONFLICTS = Counter("etawatch_ledger_conflicts", "Saves that lost on optimistic concurrency.")
RELAYED = Counter("etawatch_ledger_relayed", "Stored events published by the relay.")
REFUSED = Counter("etawatch_ledger_refused", "Messages refused (sent to the dead-letter queue).")
RELAY_LEADER = Gauge(
    "etawatch_ledger_relay_leader", "1 while this replica holds the relay lease and relays, else 0."
)
