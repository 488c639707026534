"""etawatch ledger."""
