"""Observations held per scrape run until the run's outcome is known.

A run's rows are compared only when ``ScrapeRunCompleted(complete=True)`` arrives for it. Until
then they are held here, in memory, per partition and run, compactly (``Row``), and their
messages are acknowledged. The bounds: at most ``max_runs`` open runs per partition (opening
another drops the oldest) and ``max_rows`` rows per run (more marks the run overflowed). A run
is comparable only if this process saw its ``ScrapeRunStarted`` and held every row since: after
a restart, a dropped run or an overflow, the run is recorded as not compared (a partial view is
never a change) and the next complete run brings the same facts again.
"""

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from etawatch.ledger.domain.state import Row


@dataclass
class StagedRun:
    supplier: str
    started_at: float
    rows: dict[str, Row] = field(default_factory=dict)
    overflowed: bool = False


class Staging:
    def __init__(self, max_runs: int, max_rows: int) -> None:
        self.max_runs = max_runs
        self.max_rows = max_rows
        self.runs: OrderedDict[uuid.UUID, StagedRun] = OrderedDict()
        self.dropped_rows = 0

    def open(self, run_id: uuid.UUID, supplier: str, started_at: float) -> None:
        if run_id in self.runs:
            return  # redelivered start: keep what is held
        self.runs[run_id] = StagedRun(supplier, started_at)
        while len(self.runs) > self.max_runs:
            self.runs.popitem(last=False)

    def add(self, run_id: uuid.UUID, row: Row) -> bool:
        """Hold a row; False when its run is not open here (it is dropped)."""
        run = self.runs.get(run_id)
        if run is None:
            self.dropped_rows += 1
            return False
        if row.sku not in run.rows and len(run.rows) >= self.max_rows:
            run.overflowed = True
            return False
        run.rows[row.sku] = row
        return True

    def get(self, run_id: uuid.UUID) -> StagedRun | None:
        return self.runs.get(run_id)

    def forget(self, run_id: uuid.UUID) -> None:
        self.runs.pop(run_id, None)

    @property
    def held_rows(self) -> int:
        return sum(len(run.rows) for run in self.runs.values())
