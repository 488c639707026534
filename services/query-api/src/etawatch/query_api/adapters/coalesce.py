"""Reads asked for at the same moment, sent as one: a server under load pays one database round
trip for many answers, and one alone is sent at once (nothing waits for company)."""

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]
Waiters = dict[K, list[asyncio.Future[V | None]]]


class ClosedError(RuntimeError):
    """Asked after ``close``."""


class Coalescer(Generic[K, V]):
    """``get(key)`` answers ``fetch([key, ...])[key]`` (``None`` when it is not there).

    At most ``in_flight`` fetches are out at once. A key asked for while they are all out waits,
    with every other key asked for meanwhile, and leaves with them (``max_keys`` at most) as soon
    as one comes back; callers waiting for the same key share its place in the batch (a key
    asked for again while its fetch is out waits for the next one). A fetch that fails fails
    each of its callers; a caller that gives up (cancelled) leaves the others their answers.
    """

    def __init__(self, fetch: Fetch[K, V], *, in_flight: int = 2, max_keys: int = 256) -> None:
        if in_flight < 1 or max_keys < 1:
            raise ValueError("in_flight and max_keys must be at least 1")
        self.fetch = fetch
        self.in_flight = in_flight
        self.max_keys = max_keys
        self.fetches = 0
        """Fetches started so far."""
        self._waiting: Waiters[K, V] = {}
        self._out = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def get(self, key: K) -> V | None:
        if self._closed:
            raise ClosedError("the reads are closed")
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        self._send()
        return await future

    def _send(self) -> None:
        """Start fetches for the keys waiting, while fewer than ``in_flight`` are out."""
        while self._waiting and self._out < self.in_flight and not self._closed:
            batch = {key: self._waiting.pop(key) for key in list(self._waiting)[: self.max_keys]}
            batch = {key: futures for key, futures in batch.items() if _wanted(futures)}
            if batch:
                self._start(batch)

    def _start(self, batch: Waiters[K, V]) -> None:
        self.fetches += 1
        self._out += 1
        task = asyncio.get_running_loop().create_task(self._read(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, batch: Waiters[K, V]) -> None:
        try:
            found = await self.fetch(list(batch))
            answers = {key: found.get(key) for key in batch}
        except Exception as exc:
            _settle(batch, error=exc)
        else:
            for key, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(answers[key])
        finally:
            _settle(batch)  # cancelled, or stopped by anything else: nobody waits for ever
            self._out -= 1
            self._send()

    async def close(self) -> None:
        """Refuse new keys, cancel the callers still waiting and the fetches out (their
        callers are cancelled too), and wait until every fetch has ended."""
        self._closed = True
        waiting, self._waiting = self._waiting, {}
        _settle(waiting)
        while self._tasks:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _wanted(futures: list[asyncio.Future[V]]) -> bool:
    return not all(future.done() for future in futures)


def _settle(batch: Waiters[K, V], error: Exception | None = None) -> None:
    """Fail (``error``) or cancel every future of the batch not yet answered."""
    for futures in batch.values():
        for future in futures:
            if future.done():
                continue
            if error is None:
                future.cancel()
            else:
                future.set_exception(error)
