"""etawatch query-api."""
