"""The ledger's eventsourcing ``Application``: where every item and order event is stored."""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar, overload

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import ProcessRecorder, Recording

from etawatch.ledger.domain.health import SupplierHealth
from etawatch.ledger.domain.order import Order

RELAY_TRACKING_NAME = "etawatch-ledger-relay"
"""``application_name`` of the tracking row that holds the relay's position."""


class LedgerStore(Application[Any]):
    """The event store of supplier items, orders, run logs and supplier health.

    Persistence comes from eventsourcing's environment (``PERSISTENCE_MODULE``, ``POSTGRES_*``,
    ``SQLITE_DBNAME``). The recorder is a process recorder, so the relay's position (a tracking
    record) lives in the same database as the events.
    """

    name = "Ledger"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Order: 50, SupplierHealth: 50}

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def save_all(self, events: Sequence[Any], aggregates: Sequence[Any]) -> list[Recording[Any]]:
        """One atomic save of ready-made events and of the aggregates' pending events.

        Like ``save``, but events built by the ledger are taken as they are (``save`` checks
        each against a runtime protocol, which dominated the time of a first large run).
        Snapshots are taken as ``save`` takes them.
        """
        processing = ProcessingEvent[Any]()
        processing.events.extend(events)
        processing.collect_events(*aggregates)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        return recordings

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        if not isinstance(recorder, ProcessRecorder):  # pragma: no cover - by construction
            raise TypeError("the ledger's recorder must be a process recorder")
        return recorder


S = TypeVar("S", bound=LedgerStore)


@overload
def open_read_only(env: Mapping[str, str]) -> LedgerStore: ...
@overload
def open_read_only(env: Mapping[str, str], kind: type[S]) -> S: ...
def open_read_only(env: Mapping[str, str], kind: type[LedgerStore] = LedgerStore) -> LedgerStore:
    """A ``LedgerStore`` (or subclass ``kind``) that never creates tables: for readers such as
    the query API."""
    return kind(env={**env, "CREATE_TABLE": "no"})
