"""Coalescer: reads asked for at the same moment go out as one, and nobody waits for company."""

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from etawatch.query_api.adapters.coalesce import ClosedError, Coalescer


class Source:
    """A fetch that records what it was asked and answers ``key * 2`` for keys it has, once
    ``release`` lets it (all fetches go at once when ``gate`` is open)."""

    def __init__(self, known: set[int], *, gate_open: bool = True) -> None:
        self.known = known
        self.asked: list[list[int]] = []
        self.gate = asyncio.Event()
        if gate_open:
            self.gate.set()
        self.fail_next: Exception | None = None

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        self.asked.append(list(keys))
        await self.gate.wait()
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        return {key: key * 2 for key in keys if key in self.known}


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_alone_is_sent_at_once_and_missing_keys_answer_none() -> None:
    source = Source({1})
    reads = Coalescer(source.fetch, in_flight=1)
    assert await reads.get(1) == 2
    assert await reads.get(7) is None
    assert source.asked == [[1], [7]]


async def test_keys_asked_while_the_reads_are_out_leave_together() -> None:
    source = Source({1, 2, 3}, gate_open=False)
    reads = Coalescer(source.fetch, in_flight=1)
    first = asyncio.create_task(reads.get(1))
    await settle()
    later = [asyncio.create_task(reads.get(key)) for key in (2, 3, 2, 9)]
    await settle()
    assert source.asked == [[1]]  # the rest wait for the one out
    source.gate.set()
    assert await first == 2
    assert [await task for task in later] == [4, 6, 4, None]
    assert source.asked == [[1], [2, 3, 9]]  # a key asked for twice is fetched once


async def test_up_to_in_flight_reads_go_out_before_any_key_waits() -> None:
    source = Source({1, 2, 3, 4}, gate_open=False)
    reads = Coalescer(source.fetch, in_flight=2)
    tasks = [asyncio.create_task(reads.get(key)) for key in (1, 2, 3, 4)]
    await settle()
    assert source.asked == [[1], [2]]
    source.gate.set()
    assert [await task for task in tasks] == [2, 4, 6, 8]
    assert source.asked == [[1], [2], [3, 4]]


async def test_a_batch_holds_at_most_max_keys() -> None:
    source = Source(set(range(10)), gate_open=False)
    reads = Coalescer(source.fetch, in_flight=1, max_keys=3)
    tasks = [asyncio.create_task(reads.get(key)) for key in range(8)]
    await settle()
    source.gate.set()
    assert [await task for task in tasks] == [key * 2 for key in range(8)]
    assert source.asked == [[0], [1, 2, 3], [4, 5, 6], [7]]


async def test_a_failed_read_fails_its_callers_only() -> None:
    source = Source({1, 2, 3}, gate_open=False)
    reads = Coalescer(source.fetch, in_flight=1)
    first = asyncio.create_task(reads.get(1))
    await settle()
    source.fail_next = ConnectionError("the database went away")
    batch = [asyncio.create_task(reads.get(key)) for key in (2, 3)]
    source.gate.set()
    with pytest.raises(ConnectionError, match="went away"):
        await first
    assert [await task for task in batch] == [4, 6]  # the next read is sent regardless
    assert await reads.get(3) == 6


async def test_a_caller_that_gives_up_leaves_the_others_their_answers() -> None:
    source = Source({1, 2, 3}, gate_open=False)
    reads = Coalescer(source.fetch, in_flight=1)
    first = asyncio.create_task(reads.get(1))
    await settle()
    gone, kept = asyncio.create_task(reads.get(2)), asyncio.create_task(reads.get(3))
    alone = asyncio.create_task(reads.get(4))
    await settle()
    gone.cancel()
    alone.cancel()
    first.cancel()  # its read is already out: it still comes back, for nobody
    source.gate.set()
    assert await kept == 6
    for task in (gone, alone, first):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert source.asked == [[1], [3]]  # keys nobody waits for any more are not fetched


async def test_close_cancels_every_caller_and_every_read_and_refuses_new_keys() -> None:
    source = Source({1, 2}, gate_open=False)
    reads = Coalescer(source.fetch, in_flight=1)
    out = asyncio.create_task(reads.get(1))
    await settle()
    waiting = asyncio.create_task(reads.get(2))
    await settle()
    await reads.close()
    for task in (out, waiting):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert source.asked == [[1]]  # the key still waiting was not sent when the read ended
    assert reads._tasks == set()
    with pytest.raises(ClosedError):
        await reads.get(3)


async def test_a_fetch_that_answers_nonsense_fails_its_callers_and_the_next_read_goes() -> None:
    answers: list[object] = [["not", "a", "mapping"], {2: 4}]

    async def fetch(keys: Sequence[int]) -> Mapping[int, int]:
        return answers.pop(0)  # type: ignore[return-value]

    reads = Coalescer(fetch, in_flight=1)
    with pytest.raises(AttributeError):
        await reads.get(1)
    assert await reads.get(2) == 4


def test_limits_below_one_are_refused() -> None:
    async def fetch(keys: Sequence[int]) -> Mapping[int, int]:
        return {}

    with pytest.raises(ValueError, match="at least 1"):
        Coalescer(fetch, in_flight=0)
    with pytest.raises(ValueError, match="at least 1"):
        Coalescer(fetch, max_keys=0)
