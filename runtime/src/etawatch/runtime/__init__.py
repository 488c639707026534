"""Shared runtime of the etawatch services: settings base and structured logging."""
