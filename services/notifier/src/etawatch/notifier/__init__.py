"""etawatch notifier."""
