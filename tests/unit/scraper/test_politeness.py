"""Rate limit and retries: transient errors are retried with backoff, others are not."""

import time

import pytest

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.politeness import RateLimiter, with_retries
from etawatch.scraper.domain.failures import ScrapeFailure, TransientError
from etawatch.scraper.domain.profile import RetrySection

POLICY = RetrySection(
    attempts=3, initial_backoff_seconds=1, max_backoff_seconds=4, jitter_seconds=0.5
)


def test_requests_are_spaced_by_the_minimum_interval() -> None:
    now = [100.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(0.5, clock=lambda: now[0], sleep=sleep)
    limiter.wait()  # the first request goes at once
    now[0] += 0.2
    limiter.wait()
    now[0] += 1.0
    limiter.wait()  # long enough since the last one
    assert pauses == [pytest.approx(0.3)]


def test_transient_errors_are_retried_with_growing_pauses() -> None:
    calls: list[int] = []
    pauses: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientError(FailureReason.HTTP_ERROR, "HTTP 500")
        return "rows"

    result = with_retries(flaky, POLICY, deadline=time.monotonic() + 60, sleep=pauses.append)
    assert result == "rows" and len(calls) == 3
    assert 1 <= pauses[0] <= 1.5 and 2 <= pauses[1] <= 2.5


def test_when_retries_run_out_the_reason_of_the_last_error_stays() -> None:
    def always() -> None:
        raise TransientError(FailureReason.HTTP_ERROR, "/availability?page=3 answered HTTP 500")

    with pytest.raises(ScrapeFailure, match="HTTP 500 \\(gave up after retries\\)") as failure:
        with_retries(always, POLICY, deadline=time.monotonic() + 60, sleep=lambda _: None)
    assert failure.value.reason is FailureReason.HTTP_ERROR


def test_no_retry_that_would_end_past_the_deadline() -> None:
    calls: list[int] = []

    def always() -> None:
        calls.append(1)
        raise TransientError(FailureReason.TIMEOUT, "slow")

    with pytest.raises(ScrapeFailure):
        with_retries(always, POLICY, deadline=time.monotonic() + 0.5, sleep=lambda _: None)
    assert len(calls) == 1


def test_a_failure_that_is_not_transient_is_not_retried() -> None:
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise ScrapeFailure(FailureReason.LOGIN_FAILED, "wrong password")

    with pytest.raises(ScrapeFailure):
        with_retries(refused, POLICY, deadline=time.monotonic() + 60, sleep=lambda _: None)
    assert len(calls) == 1
