"""Recording run outcomes per supplier, and degrading its health after repeated failures."""

import datetime as dt
import uuid

from etawatch.contracts.messages import FailureReason
from etawatch.ledger.application.work import Work


def record_outcome(
    work: Work,
    supplier: str,
    run_id: uuid.UUID,
    *,
    failed: bool,
    reason: FailureReason,
    message: str,
    at: dt.datetime,
    degrade_after: int,
) -> None:
    health = work.supplier_health(supplier)
    if health.knows(run_id):
        return  # the same outcome delivered again
    if not failed:
        health.run_succeeded(run_id=run_id, finished_at=at)
        return
    health.run_failed(run_id=run_id, reason=reason.value, message=message, failed_at=at)
    if health.consecutive_failures >= degrade_after and not health.degraded:
        health.degrade(
            supplier=supplier,
            consecutive_failures=health.consecutive_failures,
            last_reason=reason.value,
            last_message=message,
            last_run_id=run_id,
            failing_since=health.failing_since or at,
        )
