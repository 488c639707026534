"""Running scrapes forever at an interval with jitter; one step is ``run_once``."""

import asyncio
import random
import re
from collections.abc import Awaitable, Callable

from etawatch.runtime.log import get_logger
from etawatch.scraper.application.outcome import RunOutcome

log = get_logger(__name__)

_UNITS = {"h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> float:
    """``30m``, ``1h30m``, ``90s``, ``45`` (seconds) -> seconds."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 1h30m, 90s)")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def next_delay(every: float, jitter: float, rng: random.Random) -> float:
    """The pause before the next run: ``every`` plus up to ``jitter`` (never in lock-step)."""
    return every + rng.uniform(0, jitter) if jitter > 0 else every


async def run_schedule(
    step: Callable[[], Awaitable[RunOutcome]],
    *,
    every: float,
    jitter: float,
    stop: asyncio.Event,
    rng: random.Random | None = None,
    max_runs: int | None = None,
) -> int:
    """Run ``step`` now and then every ``every`` (+ jitter) until ``stop`` is set."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    runs = 0
    while not stop.is_set():
        await step()
        runs += 1
        if max_runs is not None and runs >= max_runs:
            break
        delay = next_delay(every, jitter, rng)
        log.info("next scrape run scheduled", in_seconds=round(delay, 1))
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except TimeoutError:
            continue
    return runs
