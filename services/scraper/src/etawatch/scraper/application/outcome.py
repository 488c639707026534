"""What one run ended as: returned to the caller (CLI exit code, demo, metrics)."""

import datetime as dt
import uuid
from dataclasses import dataclass

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.domain.validation import Report


@dataclass(frozen=True)
class RunOutcome:
    run_id: uuid.UUID
    profile: str
    supplier: str
    started_at: dt.datetime
    finished_at: dt.datetime
    reason: FailureReason | None = None
    """``None`` when the run completed and its observations were published."""
    message: str = ""
    report: Report | None = None
    artifacts: tuple[str, ...] = ()
    logins: int = 0
    session_reused: bool = False

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def items_seen(self) -> int:
        return self.report.items_seen if self.report else 0
