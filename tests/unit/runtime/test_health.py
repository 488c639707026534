"""Liveness and readiness of a consumer, decided from a thread outside its event loop."""

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from etawatch.runtime.health import ServiceHealth, blocking_check
from etawatch.runtime.settings import ProbedServiceSettings

T = TypeVar("T")


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class LoopThread:
    """A service's event loop, running in a thread of its own as in the real process."""

    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    held: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 5.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def cancel_the_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        self.run(cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def service_loop() -> Iterator[LoopThread]:
    running = LoopThread()
    yield running
    running.stop()


def watched(health: ServiceHealth, service_loop: LoopThread) -> None:
    """Enter ``health.watching()`` in the service's loop and leave it open."""
    watching = health.watching()
    service_loop.held.append(watching)  # an unreferenced context would be finalised (exited)
    service_loop.run(watching.__aenter__())


async def answers() -> None:
    return None


async def refuses() -> None:
    raise ConnectionError("RabbitMQ does not answer")


async def never_answers() -> None:
    await asyncio.sleep(3600)


# --- liveness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "status", "word"), [(29.9, 200, "ok"), (30.0, 503, "event loop not responding")]
)
def test_liveness_turns_at_the_threshold(age: float, status: int, word: str) -> None:
    """Bad input (the second case): no beat for the whole threshold (a stuck event loop)."""
    clock = FakeClock()
    health = ServiceHealth(stale_after=30, clock=clock)
    clock.now += age
    report = health.liveness()
    assert report.status == status
    assert report.body == {"status": word, "heartbeat_age_seconds": age, "stale_after_seconds": 30}


def test_a_beat_revives_a_stale_heartbeat() -> None:
    clock = FakeClock()
    health = ServiceHealth(stale_after=30, clock=clock)
    clock.now += 60
    health.beat()
    assert health.liveness().status == 200


def test_a_loop_that_never_starts_goes_stale_from_the_process_start() -> None:
    """Bad input: ``watching`` never entered; the clock counts from construction."""
    clock = FakeClock()
    health = ServiceHealth(stale_after=5, clock=clock)
    clock.now += 6
    assert health.liveness().status == 503


def test_liveness_ignores_failing_dependencies() -> None:
    """Bad input: every readiness check fails; a dead database must not restart the pod."""
    health = ServiceHealth(checks={"broker": refuses, "store": refuses})
    assert health.liveness().status == 200


def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not true after {within}s"
        time.sleep(0.02)


def test_the_loop_beats_by_itself(service_loop: LoopThread) -> None:
    health = ServiceHealth(stale_after=0.4)  # beats every 0.1 s
    watched(health, service_loop)
    first = health.last_beat
    eventually(lambda: health.last_beat > first)
    assert health.liveness().status == 200


def test_a_blocked_loop_fails_liveness(service_loop: LoopThread) -> None:
    """Bad input: a callback that blocks the loop (``time.sleep``) for longer than the
    threshold; the probe, in another thread, sees the heartbeat go stale."""
    health = ServiceHealth(stale_after=0.3)
    watched(health, service_loop)

    service_loop.loop.call_soon_threadsafe(time.sleep, 0.8)  # a callback that blocks the loop
    time.sleep(0.6)
    assert health.liveness().status == 503
    eventually(lambda: health.liveness().status == 200)


# --- readiness --------------------------------------------------------------------------------


def test_not_ready_before_the_service_loop_runs() -> None:
    report = ServiceHealth(checks={"broker": answers}).readiness()
    assert report.status == 503
    assert report.body == {"ready": False, "checks": {"service": "starting"}}


def test_not_ready_until_the_service_says_it_consumes(service_loop: LoopThread) -> None:
    """Bad input: every dependency answers but the service is still starting (catching up)."""
    health = ServiceHealth(checks={"broker": answers, "store": answers})
    watched(health, service_loop)
    report = health.readiness()
    assert report.status == 503
    assert report.body["checks"] == {"service": "starting", "broker": "ok", "store": "ok"}
    health.mark_started()
    report = health.readiness()
    assert report.status == 200
    assert report.body == {
        "ready": True,
        "checks": {"service": "ok", "broker": "ok", "store": "ok"},
    }


def test_a_refusing_dependency_is_named(service_loop: LoopThread) -> None:
    """Bad input: the broker check raises ConnectionError."""
    health = ServiceHealth(checks={"broker": refuses, "store": answers})
    watched(health, service_loop)
    health.mark_started()
    report = health.readiness()
    assert report.status == 503
    assert report.body["checks"] == {
        "service": "ok",
        "broker": "failed: ConnectionError",
        "store": "ok",
    }


def test_a_dependency_that_does_not_answer_times_out(service_loop: LoopThread) -> None:
    """Bad input: a store check that never returns; readiness answers after the timeout."""
    health = ServiceHealth(checks={"store": never_answers}, timeout=0.2)
    watched(health, service_loop)
    health.mark_started()
    started = time.monotonic()
    report = health.readiness()
    # a guard against hanging on the check, not a measurement: the check never returns at all
    assert time.monotonic() - started < 10.0
    assert report.status == 503
    assert report.body["checks"]["store"] == "failed: TimeoutError"


def test_checks_cannot_run_in_a_blocked_loop(service_loop: LoopThread) -> None:
    """Bad input: the loop is blocked, so the checks never run; readiness still answers."""
    health = ServiceHealth(checks={"broker": answers}, timeout=0.1)
    watched(health, service_loop)
    health.mark_started()

    service_loop.loop.call_soon_threadsafe(time.sleep, 1.5)  # a callback that blocks the loop
    report = health.readiness()
    assert report.status == 503
    assert report.body["checks"]["broker"] == "failed: event loop not responding"
    eventually(lambda: health.readiness().status == 200)


def test_not_ready_once_the_service_stops(service_loop: LoopThread) -> None:
    health = ServiceHealth(checks={"broker": answers})

    async def run_and_stop() -> None:
        async with health.watching():
            health.mark_started()

    service_loop.run(run_and_stop())
    report = health.readiness()
    assert report.status == 503
    assert report.body["checks"] == {"service": "stopping"}


def test_settings_give_the_thresholds() -> None:
    settings = ProbedServiceSettings(liveness_stale_seconds=12, readiness_timeout_seconds=0.5)
    health = ServiceHealth.for_settings(settings)
    assert (health.stale_after, health.timeout) == (12, 0.5)


def test_thresholds_must_be_positive() -> None:
    """Bad input: a zero liveness threshold would declare every process dead."""
    with pytest.raises(ValueError, match="liveness_stale_seconds"):
        ProbedServiceSettings(liveness_stale_seconds=0)


# --- blocking checks -------------------------------------------------------------------------


def test_a_blocking_call_that_hangs_is_not_started_again(service_loop: LoopThread) -> None:
    """Bad input: a driver call that hangs (a database that does not answer). Each probe
    times out, and later probes wait for the same call instead of piling up threads."""
    release = threading.Event()
    calls: list[int] = []

    def hangs() -> None:
        calls.append(1)
        release.wait(10)

    health = ServiceHealth(checks={"store": blocking_check(hangs)}, timeout=0.1)
    watched(health, service_loop)
    health.mark_started()
    for _ in range(3):
        assert health.readiness().body["checks"]["store"] == "failed: TimeoutError"
    assert len(calls) == 1
    release.set()
    eventually(lambda: health.readiness().body["checks"]["store"] == "ok")


def test_a_blocking_call_that_raises_is_named(service_loop: LoopThread) -> None:
    """Bad input: the driver raises OSError (connection refused)."""

    def refused() -> None:
        raise OSError("connection refused")

    health = ServiceHealth(checks={"store": blocking_check(refused)})
    watched(health, service_loop)
    health.mark_started()
    assert health.readiness().body["checks"]["store"] == "failed: OSError"
