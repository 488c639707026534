"""What a run needs from the outside world, as small interfaces that tests can fake."""

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.domain.table import PortalRead


class PortalReader(Protocol):
    """One browser session against one portal. Blocking: the run calls it in a worker thread."""

    logins: int
    """Logins made so far in this run (also known when the read failed)."""

    def read(self, deadline: float) -> PortalRead:
        """Log in (or reuse the session) and read every row; ``deadline`` is ``time.monotonic``.

        Raises ``ScrapeFailure`` with the reason when the portal cannot be read.
        """

    def save_artifacts(self, folder: Path) -> list[Path]:
        """Save a screenshot and the page's HTML for a failed run; best effort, never raises."""

    def close(self) -> None:
        """Quit the browser. Idempotent; may be called from another thread to abort a read."""


ReaderFactory = Callable[[], PortalReader]
"""Makes a fresh reader (and so a fresh browser) for each run."""


class RunState(Protocol):
    """What is kept between runs: the size of the last complete run, per profile."""

    def last_complete_items(self, profile: str) -> int | None: ...

    def record_complete(
        self, profile: str, items: int, run_id: uuid.UUID, at: dt.datetime
    ) -> None: ...


class RunMetrics(Protocol):
    def record(self, outcome: RunOutcome) -> None: ...


Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def artifacts_folder(data_dir: Path, run_id: uuid.UUID) -> Path:
    return data_dir / "artifacts" / str(run_id)
