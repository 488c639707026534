"""Being polite to the portal: a minimum interval between requests, and retries with backoff.

The rate limiter waits for the remaining part of the interval; that is the one deliberate pause
of the robot (pages themselves are always waited for by condition, never by time).
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from etawatch.runtime.log import get_logger
from etawatch.scraper.domain.failures import ScrapeFailure, TransientError
from etawatch.scraper.domain.profile import RetrySection

T = TypeVar("T")
log = get_logger(__name__)
Sleep = Callable[[float], None]


class RateLimiter:
    """At least ``min_interval`` seconds between the starts of two requests."""

    def __init__(
        self,
        min_interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if self._last is not None:
                remaining = self._last + self.min_interval - now
                if remaining > 0:
                    self._sleep(remaining)
                    now = self._clock()
            self._last = now


class StopAtDeadline(stop_base):
    """Stop when the next pause would end past the run's deadline (``time.monotonic``)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return time.monotonic() + retry_state.upcoming_sleep >= self.deadline


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "portal request failed, trying again",
        attempt=state.attempt_number,
        error=str(error),
        wait_seconds=round(state.upcoming_sleep, 2),
    )


def with_retries(
    action: Callable[[], T],
    policy: RetrySection,
    *,
    deadline: float,
    sleep: Sleep = time.sleep,
) -> T:
    """Run ``action``; retry ``TransientError`` with exponential backoff and jitter.

    When the attempts are used up, or the next pause would cross the run's deadline, the last
    error becomes a ``ScrapeFailure`` with its reason.
    """

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_any(stop_after_attempt(policy.attempts), StopAtDeadline(deadline)),
        wait=wait_exponential_jitter(
            multiplier=policy.initial_backoff_seconds,
            max=policy.max_backoff_seconds,
            jitter=policy.jitter_seconds,
        ),
        before_sleep=_log_retry,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(action)
    except TransientError as exc:
        raise ScrapeFailure(exc.reason, f"{exc.message} (gave up after retries)") from exc
