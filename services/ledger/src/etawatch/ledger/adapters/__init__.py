"""Adapters of the ledger: the broker side (batching, acknowledgement, dead-lettering)."""
