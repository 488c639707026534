"""The schedule: durations, jitter, and the loop driven one step at a time."""

import asyncio
import datetime as dt
import random
import uuid

import pytest

from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.application.schedule import next_delay, parse_duration, run_schedule

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("5m", 300), ("1h30m", 5400), ("90s", 90), ("45", 45)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "30 minutes", "m30", "1x"])
def test_bad_durations_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ValueError, match=r"use e\.g\. 30m"):
        parse_duration(text)


def test_jitter_only_adds() -> None:
    rng = random.Random(1)
    delays = [next_delay(1800, 300, rng) for _ in range(200)]
    assert all(1800 <= d <= 2100 for d in delays)
    assert len(set(delays)) > 100
    assert next_delay(60, 0, rng) == 60


async def test_the_loop_runs_steps_until_stopped() -> None:
    stop = asyncio.Event()
    runs: list[int] = []

    async def step() -> RunOutcome:
        runs.append(1)
        if len(runs) == 3:
            stop.set()
        return RunOutcome(uuid.uuid4(), "p", "s", NOW, NOW)

    count = await run_schedule(step, every=0.01, jitter=0.01, stop=stop, rng=random.Random(0))
    assert count == 3 and len(runs) == 3


async def test_the_loop_can_be_bounded() -> None:
    async def step() -> RunOutcome:
        return RunOutcome(uuid.uuid4(), "p", "s", NOW, NOW)

    count = await run_schedule(step, every=3600, jitter=0, stop=asyncio.Event(), max_runs=1)
    assert count == 1
