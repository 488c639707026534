"""Who relays: the relay lease, held by one replica at a time.

The relay publishes each stored event at least once; one relay per ledger is enough, and a
second one doubles the traffic and races on the position. ``Ledger.relay_once`` asks its lease
before each step and relays only while the lease is held.

- On PostgreSQL the lease is a session-level advisory lock (``adapters/advisory_lease.py``):
  the replica whose session holds it relays, the others keep asking and take over when that
  session ends.
- On SQLite and in memory the store belongs to one process (embedded mode), so there is no
  other replica to exclude: ``SoleRelay`` is always held. The relay code path is the same.
"""

from typing import Protocol


class RelayLease(Protocol):
    def held(self) -> bool:
        """Whether this replica may relay now; tries to take the lease when it is free.

        Blocking (it may talk to the database); never raises for a lost connection, it answers
        False and tries again at the next call.
        """
        ...

    def release(self) -> None:
        """Give the lease up (at shutdown) so that another replica takes over at once."""
        ...


class SoleRelay:
    """The lease of a store only one process uses (SQLite, in memory): always held."""

    def held(self) -> bool:
        return True

    def release(self) -> None:
        return None
