"""One scrape run: read the portal with a fresh browser, validate, publish, always close.

The order of messages is ``ScrapeRunStarted``, then either ``ScrapeRunFailed`` alone or one
``ItemAvailabilityObserved`` per row followed by ``ScrapeRunCompleted(complete=True)``. A read
that fails validation publishes no observations at all (see ``domain.validation``): consumers
never see rows of a run that did not complete. If publishing breaks half-way, the run ends as
``ScrapeRunFailed(publish_failed)`` (best effort) and never as completed, so the rows that did
go out belong to a run that the ledger will not compare.
"""

import asyncio
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path

from etawatch.contracts.messages import FailureReason
from etawatch.runtime.bus import MessageBus
from etawatch.runtime.log import get_logger
from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.application.ports import (
    Clock,
    PortalReader,
    ReaderFactory,
    RunMetrics,
    RunState,
    artifacts_folder,
    utc_now,
)
from etawatch.scraper.application.publisher import RunPublisher
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.profile import Profile
from etawatch.scraper.domain.table import PortalRead
from etawatch.scraper.domain.validation import Validated, validate

log = get_logger(__name__)


@dataclass(frozen=True)
class RunOptions:
    data_dir: Path
    accept_drop: bool = False
    """Accept a table much shorter than the last complete run (the operator checked it)."""
    time_limit_seconds: float | None = None
    """Overrides the profile's ``timeouts.run_seconds``."""
    abort_grace_seconds: float = 15.0
    """How long past the time limit the reader gets to stop by itself before it is killed."""


async def run_once(
    profile: Profile,
    bus: MessageBus,
    reader_factory: ReaderFactory,
    state: RunState,
    options: RunOptions,
    *,
    clock: Clock = utc_now,
    metrics: RunMetrics | None = None,
) -> RunOutcome:
    """Scrape the portal once and publish the result; never raises for a failed run."""
    run_id = uuid.uuid4()
    started_at = clock()
    publisher = RunPublisher(
        bus, run_id=run_id, supplier=profile.supplier, profile=profile.name, started_at=started_at
    )
    bound = log.bind(run_id=str(run_id), supplier=profile.supplier, profile=profile.name)
    bound.info("scrape run started", mode=profile.portal.mode.value)
    try:
        await publisher.started()
    except Exception as exc:
        bound.exception("could not publish the start of the run")
        return _finish(
            metrics,
            RunOutcome(
                run_id=run_id,
                profile=profile.name,
                supplier=profile.supplier,
                started_at=started_at,
                finished_at=clock(),
                reason=FailureReason.PUBLISH_FAILED,
                message=f"could not publish ScrapeRunStarted: {exc!r}",
            ),
        )

    outcome = RunOutcome(
        run_id=run_id,
        profile=profile.name,
        supplier=profile.supplier,
        started_at=started_at,
        finished_at=started_at,
    )
    outcome, validated = await _read_and_validate(profile, reader_factory, state, options, outcome)
    if validated is not None:
        outcome = await _publish_rows(publisher, validated, outcome, state, clock)
    else:
        outcome = await _publish_failure(publisher, outcome, clock)
    _log_outcome(outcome)
    return _finish(metrics, outcome)


async def _read_and_validate(
    profile: Profile,
    reader_factory: ReaderFactory,
    state: RunState,
    options: RunOptions,
    outcome: RunOutcome,
) -> tuple[RunOutcome, Validated | None]:
    """A fresh browser reads the portal; it is closed whatever happens, exceptions included."""
    limit = options.time_limit_seconds or profile.timeouts.run_seconds
    previous = state.last_complete_items(profile.name)
    reader = reader_factory()
    read: PortalRead | None = None
    try:
        read = await _read(reader, limit, options.abort_grace_seconds)
        validated = validate(read, profile, previous, accept_drop=options.accept_drop)
    except ScrapeFailure as failure:
        artifacts = await _artifacts(reader, options.data_dir, outcome.run_id, failure.reason)
        return _failed(outcome, failure.reason, failure.message, artifacts, reader), None
    except Exception as exc:  # a bug or an unexpected browser state: still a clean failed run
        log.exception("scrape run broke", run_id=str(outcome.run_id))
        reason = FailureReason.INTERNAL_ERROR
        artifacts = await _artifacts(reader, options.data_dir, outcome.run_id, reason)
        return _failed(outcome, reason, repr(exc), artifacts, reader), None
    finally:
        await asyncio.to_thread(reader.close)
    return replace(
        outcome, report=validated.report, logins=read.logins, session_reused=read.session_reused
    ), validated


async def _read(reader: PortalReader, limit: float, grace: float) -> PortalRead:
    """Read in a worker thread under a hard time limit; past it the browser is killed."""
    deadline = time.monotonic() + limit
    task = asyncio.ensure_future(asyncio.to_thread(reader.read, deadline))
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout=limit + grace)
    except TimeoutError:
        # The reader did not stop at its deadline: quit the browser under it, which makes its
        # pending WebDriver call fail, and wait for the worker thread to notice.
        await asyncio.to_thread(reader.close)
        with suppress(Exception):
            await asyncio.wait_for(task, timeout=grace)
        raise ScrapeFailure(
            FailureReason.TIME_LIMIT, f"the run took longer than its limit of {limit:.0f} s"
        ) from None


async def _artifacts(
    reader: PortalReader, data_dir: Path, run_id: uuid.UUID, reason: FailureReason
) -> tuple[str, ...]:
    if reason is FailureReason.TIME_LIMIT:
        return ()  # the browser has been killed; there is no page left to save
    saved = await asyncio.to_thread(reader.save_artifacts, artifacts_folder(data_dir, run_id))
    return tuple(str(_relative(path, data_dir)) for path in saved)


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return path


def _failed(
    outcome: RunOutcome,
    reason: FailureReason,
    message: str,
    artifacts: tuple[str, ...],
    reader: PortalReader,
) -> RunOutcome:
    return replace(
        outcome, reason=reason, message=message, artifacts=artifacts, logins=reader.logins
    )


async def _publish_rows(
    publisher: RunPublisher,
    validated: Validated,
    outcome: RunOutcome,
    state: RunState,
    clock: Clock,
) -> RunOutcome:
    try:
        await publisher.observations(validated.rows)
        finished_at = clock()
        await publisher.completed(validated.report, finished_at)
    except Exception as exc:
        failed = replace(
            outcome,
            reason=FailureReason.PUBLISH_FAILED,
            message=f"publishing the observations failed: {exc!r}",
        )
        return await _publish_failure(publisher, failed, clock)
    state.record_complete(outcome.profile, validated.report.items_seen, outcome.run_id, finished_at)
    return replace(outcome, finished_at=finished_at)


async def _publish_failure(
    publisher: RunPublisher, outcome: RunOutcome, clock: Clock
) -> RunOutcome:
    finished_at = clock()
    reason = outcome.reason or FailureReason.INTERNAL_ERROR
    try:
        await publisher.failed(reason, outcome.message, finished_at, outcome.artifacts)
    except Exception:
        log.exception("could not publish the failure of the run", run_id=str(outcome.run_id))
    return replace(outcome, finished_at=finished_at)


def _log_outcome(outcome: RunOutcome) -> None:
    logger = log.bind(run_id=str(outcome.run_id), supplier=outcome.supplier)
    if outcome.ok and outcome.report is not None:
        report = outcome.report
        logger.info(
            "scrape run completed",
            items=report.items_seen,
            pages=report.pages,
            logins=outcome.logins,
            session_reused=outcome.session_reused,
            unknown_availability=report.unknown_availability,
            unknown_words=report.unknown_words,
            unreadable_eta=report.unreadable_eta,
            unreadable_samples=list(report.unreadable_samples),
            duplicate_skus=report.duplicate_skus,
            seconds=round(outcome.duration_seconds, 2),
        )
    else:
        logger.warning(
            "scrape run failed",
            reason=outcome.reason.value if outcome.reason else None,
            message=outcome.message,
            artifacts=list(outcome.artifacts),
            seconds=round(outcome.duration_seconds, 2),
        )


def _finish(metrics: RunMetrics | None, outcome: RunOutcome) -> RunOutcome:
    if metrics is not None:
        metrics.record(outcome)
    return outcome
