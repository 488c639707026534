"""Recording run outcomes per supplier, and degrading its health after repeated failures."""

import datetime as dt
import uuid
from dataclasses import dataclass

from etawatch.contracts.messages import FailureReason, ScrapeRunCompleted, ScrapeRunFailed
from etawatch.ledger.application.work import Work


@dataclass(frozen=True, slots=True)
class Reported:
    """What the scraper said of its run, stored with the run's outcome as it said it.

    A failed run reports no counts (None); a truncated run (``complete=False``) reports them all.
    """

    started_at: dt.datetime
    items_seen: int | None = None
    pages: int | None = None
    artifacts: tuple[str, ...] = ()
    unknown_availability: int | None = None
    unreadable_eta: int | None = None
    duplicate_skus: int | None = None

    @classmethod
    def of(cls, message: ScrapeRunCompleted | ScrapeRunFailed) -> "Reported":
        if isinstance(message, ScrapeRunFailed):
            return cls(message.started_at, artifacts=message.artifacts)
        return cls(
            message.started_at,
            message.items_seen,
            message.pages,
            unknown_availability=message.unknown_availability,
            unreadable_eta=message.unreadable_eta,
            duplicate_skus=message.duplicate_skus,
        )


def record_outcome(
    work: Work,
    supplier: str,
    run_id: uuid.UUID,
    *,
    failed: bool,
    reason: FailureReason,
    message: str,
    at: dt.datetime,
    reported: Reported,
    degrade_after: int,
) -> None:
    health = work.supplier_health(supplier)
    if health.knows(run_id):
        return  # the same outcome delivered again
    if not failed:
        health.run_succeeded(
            run_id=run_id,
            finished_at=at,
            started_at=reported.started_at,
            items_seen=reported.items_seen,
            pages=reported.pages,
            unknown_availability=reported.unknown_availability,
            unreadable_eta=reported.unreadable_eta,
            duplicate_skus=reported.duplicate_skus,
        )
        return
    health.run_failed(
        run_id=run_id,
        reason=reason.value,
        message=message,
        failed_at=at,
        started_at=reported.started_at,
        items_seen=reported.items_seen,
        pages=reported.pages,
        artifacts=list(reported.artifacts),
        unknown_availability=reported.unknown_availability,
        unreadable_eta=reported.unreadable_eta,
        duplicate_skus=reported.duplicate_skus,
    )
    if health.consecutive_failures >= degrade_after and not health.degraded:
        health.degrade(
            supplier=supplier,
            consecutive_failures=health.consecutive_failures,
            last_reason=reason.value,
            last_message=message,
            last_run_id=run_id,
            failing_since=health.failing_since or at,
        )
