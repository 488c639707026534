"""Which scrape runs one partition of a supplier's items was compared with, and which it was not."""

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from etawatch.ledger.domain.values import run_log_id


class RunLog(Aggregate):
    """Runs compared for one supplier in one observation partition.

    Its id is ``values.run_log_id(supplier, partition, partitions)``. ``RunCompared.unseen``
    lists the SKUs known in this partition that the run did not contain; the count of
    consecutive compared runs an item is unseen in is how "missing" is decided.
    """

    @staticmethod
    def create_id(supplier: str, partition: int, partitions: int, **_: Any) -> uuid.UUID:
        return run_log_id(supplier, partition, partitions)

    @event("Opened")
    def __init__(self, supplier: str, partition: int, partitions: int) -> None:
        self.supplier = supplier
        self.partition = partition
        self.partitions = partitions

    @event("RunCompared")
    def run_compared(
        self,
        run_id: uuid.UUID,
        started_at: dt.datetime,
        finished_at: dt.datetime,
        observations: int,
        unseen: list[str],
    ) -> None:
        pass

    @event("RunNotCompared")
    def run_not_compared(self, run_id: uuid.UUID, reason: str) -> None:
        pass


# The event classes the @event decorator made, named for type checkers and readers.
Opened: type[Any] = vars(RunLog)["Opened"]
RunCompared: type[Any] = vars(RunLog)["RunCompared"]
RunNotCompared: type[Any] = vars(RunLog)["RunNotCompared"]
