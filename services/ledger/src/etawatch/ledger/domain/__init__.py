"""The ledger's domain: aggregates, their events in the domain's words, and the change rules."""
