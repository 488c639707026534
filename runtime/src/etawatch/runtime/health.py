"""Liveness and readiness of a long-running consumer, decided from outside its event loop.

- **Liveness** (``/healthz``): a task in the service's event loop beats a heartbeat; the service
  is alive while the last beat is younger than ``stale_after``. Nothing else is checked: a
  database that is down must not get the process restarted in a loop.
- **Readiness** (``/readyz``): the service has started, and each check (the broker connection,
  the database) answers within ``timeout``. The checks run in the service's own loop, where its
  connections live; a loop that does not answer makes them time out.

The HTTP side (``etawatch.runtime.health_http``) runs in a thread of its own, so it can tell a
stuck loop from a live one.
"""

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from etawatch.runtime.settings import ProbedServiceSettings

Check = Callable[[], Awaitable[None]]
"""Return when the dependency answers; raise (anything) when it does not."""

LOOP_GRACE = 0.5
"""Seconds ``/readyz`` waits beyond the checks' timeout for a loop that does not run them: the
longest it takes to answer is ``timeout + LOOP_GRACE``."""

OK = "ok"
STARTING = "starting"
STOPPING = "stopping"


@dataclass(frozen=True)
class Report:
    """An answer to a probe: the HTTP status and its JSON body."""

    status: int
    body: dict[str, Any]


def failed(exc: BaseException) -> str:
    """How a failed check is named in the body (the type only: messages may carry hosts)."""
    return f"failed: {type(exc).__name__}"


@dataclass
class ServiceHealth:
    """The heartbeat, the readiness checks, and the two probe answers built from them."""

    checks: dict[str, Check] = field(default_factory=dict)
    stale_after: float = 30.0
    """``/healthz`` fails when the event loop has not beaten for this many seconds."""
    timeout: float = 3.0
    """Each readiness check must answer within this many seconds."""
    clock: Callable[[], float] = time.monotonic
    last_beat: float = field(init=False)
    state: str = field(default=STARTING, init=False)
    """``starting`` until the service consumes, ``ok`` while it does, then ``stopping``."""
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)

    @classmethod
    def for_settings(cls, settings: ProbedServiceSettings) -> Self:
        return cls(
            stale_after=settings.liveness_stale_seconds,
            timeout=settings.readiness_timeout_seconds,
        )

    def __post_init__(self) -> None:
        # Until the loop beats, the process counts from its start: a loop that never comes up
        # goes stale like one that stopped.
        self.last_beat = self.clock()

    # --- inside the service's loop ------------------------------------------------------------

    @property
    def beat_every(self) -> float:
        return min(1.0, self.stale_after / 4)

    def beat(self) -> None:
        self.last_beat = self.clock()

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Beat from the current loop and run the checks on it, for as long as the block runs."""
        self._loop = asyncio.get_running_loop()
        beating = asyncio.create_task(self._beat_forever(), name="health-heartbeat")
        try:
            yield
        finally:
            self.state = STOPPING
            self._loop = None
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

    async def _beat_forever(self) -> None:
        while True:
            self.beat()
            await asyncio.sleep(self.beat_every)

    def mark_started(self) -> None:
        """The service consumes: from now on readiness is up to the checks."""
        if self.state == STARTING:
            self.state = OK

    # --- from the probe's thread --------------------------------------------------------------

    def liveness(self) -> Report:
        age = round(self.clock() - self.last_beat, 3)
        alive = age < self.stale_after
        body = {
            "status": OK if alive else "event loop not responding",
            "heartbeat_age_seconds": age,
            "stale_after_seconds": self.stale_after,
        }
        return Report(200 if alive else 503, body)

    def readiness(self) -> Report:
        loop = self._loop
        results = {"service": self.state}
        if loop is not None and not loop.is_closed():
            results |= self._run_checks(loop)
        ready = all(value == OK for value in results.values())
        return Report(200 if ready else 503, {"ready": ready, "checks": results})

    def _run_checks(self, loop: asyncio.AbstractEventLoop) -> dict[str, str]:
        gathering = self._gather()
        try:
            running = asyncio.run_coroutine_threadsafe(gathering, loop)
        except RuntimeError:  # the loop closed since we looked
            gathering.close()
            return dict.fromkeys(self.checks, "failed: event loop stopped")
        try:
            # The checks time out inside the loop; waiting a little longer here catches a loop
            # that never got round to running them.
            return running.result(timeout=self.timeout + LOOP_GRACE)
        except concurrent.futures.TimeoutError:
            running.cancel()
            return dict.fromkeys(self.checks, "failed: event loop not responding")

    async def _gather(self) -> dict[str, str]:
        names = list(self.checks)
        outcomes = await asyncio.gather(*(self._one(self.checks[name]) for name in names))
        return dict(zip(names, outcomes, strict=True))

    async def _one(self, check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout=self.timeout)
        except Exception as exc:
            return failed(exc)
        return OK


def blocking_check(call: Callable[[], object]) -> Check:
    """A check of a blocking call (a database driver without asyncio), run in a worker thread.

    A thread cannot be cancelled: while one call is still waiting (a database that does not
    answer), later checks wait for that call instead of starting more threads.
    """
    running: asyncio.Future[object] | None = None

    async def check() -> None:
        nonlocal running
        if running is None or running.done():
            running = asyncio.ensure_future(asyncio.to_thread(call))
            running.add_done_callback(_retrieve)
        await asyncio.shield(running)

    return check


def _retrieve(future: asyncio.Future[object]) -> None:
    # The check that timed out no longer awaits the call; take its outcome so that asyncio
    # does not report an exception that was never retrieved.
    if not future.cancelled():
        future.exception()
