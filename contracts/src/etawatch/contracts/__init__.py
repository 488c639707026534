"""Message contracts of etawatch: every message, its envelope and where it travels."""
