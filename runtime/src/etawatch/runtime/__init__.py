"""Shared runtime of the etawatch services: settings base, structured logging, message bus,
and the probe server (``/healthz``, ``/readyz``, ``/metrics``) of the long-running consumers."""
