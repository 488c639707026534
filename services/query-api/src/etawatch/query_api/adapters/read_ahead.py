"""Read, decode and translate the ledger's events in a second process, ahead of the projector.

The library's reading and decoding of events takes about as long as the rebuild's applying and
writing them: in a process of its own it runs beside them, on another core. The reader sends
its facts in messages of ``MESSAGE_EVENTS`` (``fact_codec``) through a pipe widened to
``PIPE_BYTES`` where the system allows, so that it can send a whole batch of the rebuild's
without waiting for the rebuild to take it; a full pipe holds it back, so it is at most about
a batch ahead. It reads until the ledger has no more events; later events (that arrived
meanwhile, or a read further back than it started) are read in this process.
"""

import contextlib
import gc
import multiprocessing
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

from etawatch.query_api.adapters.fact_codec import decode, encode, unformatted
from etawatch.query_api.adapters.ledger_events import LedgerEventSource
from etawatch.query_api.application.ports import EventSource
from etawatch.query_api.domain.facts import Fact
from etawatch.runtime.log import get_logger

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

log = get_logger(__name__)

MESSAGE_EVENTS = 1000
"""Events per message: about 200 kB of facts."""
PIPE_BYTES = 1 << 20
"""What the pipe is widened to: Linux's default limit for a process without privileges, five
messages or so. Elsewhere, or where the limit is lower, the pipe stays as it is (64 kB on
Linux): the reader then waits for each message to be taken (measured: two fifths of a second
more waiting, on either side, for 107,000 events)."""

_END = b""
_FAILED = b"!"


class ReaderError(RuntimeError):
    """The reading process stopped with an error, or died."""


def _read(env: Mapping[str, str], batch_size: int, pipe: Connection) -> None:
    """The reading process: every event from the first, until the ledger has no more.

    Without the cyclic garbage collector: what it keeps (the names of the aggregates met so far)
    has no cycles, and the collector would go through all of it again and again. Deaf to Ctrl-C,
    which the terminal sends to the rebuild too: the rebuild stops on it and closes the pipe,
    which ends this process (rather than a traceback of its own)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()
    try:
        source = LedgerEventSource(env, moment=unformatted)
        try:
            position = 0
            while batch := source.read(position, min(batch_size, MESSAGE_EVENTS)):
                pipe.send_bytes(encode(batch))
                position = batch[-1][0]
        finally:
            source.close()
        pipe.send_bytes(_END)
    except BrokenPipeError:
        pass  # the rebuild stopped: nobody is reading
    except Exception as exc:
        pipe.send_bytes(_FAILED + f"{type(exc).__name__}: {exc}".encode())
    finally:
        pipe.close()


class ReadAhead:
    """``EventSource`` served from the reading process while it has the events asked for, else
    from ``direct``."""

    def __init__(self, pipe: Connection, direct: EventSource) -> None:
        self._pipe = pipe
        self._direct = direct
        self._buffer: list[tuple[int, Fact | None]] = []
        self._start = 0
        """Where the buffer starts: its first event is the first after this position."""
        self._ended = False

    def read(self, after: int, limit: int) -> Sequence[tuple[int, Fact | None]]:
        if after < self._start:  # further back than the reader got to: not in the buffer
            return self._direct.read(after, limit)
        while True:
            buffer = self._buffer
            if buffer and buffer[-1][0] > after:
                skip = 0
                while buffer[skip][0] <= after:
                    skip += 1
                if skip:
                    self._start = buffer[skip - 1][0]
                    del buffer[:skip]
                while len(buffer) < limit and not self._ended and self._pipe.poll():
                    self._receive()  # what has come meanwhile, up to a whole batch
                return buffer[:limit]
            if buffer:
                self._start = buffer[-1][0]
                buffer.clear()
            if self._ended:
                return self._direct.read(after, limit)
            self._receive()

    def _receive(self) -> None:
        try:
            data = self._pipe.recv_bytes()
        except EOFError:
            raise ReaderError("the process reading the ledger ended without a word") from None
        if data == _END:
            self._ended = True
        elif data.startswith(_FAILED):
            raise ReaderError(f"reading the ledger failed: {data[1:].decode()}")
        else:
            self._buffer.extend(decode(data))

    def head(self) -> int:
        return self._direct.head()


def _widen(pipe: Connection) -> None:
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # None: not Linux, or no fcntl at all
    if set_size is None:
        return
    with contextlib.suppress(OSError):  # above the system's limit: as it is
        fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)


@contextmanager
def read_ahead(
    source: LedgerEventSource, batch_size: int, *, enabled: bool = True
) -> Iterator[EventSource]:
    """``source`` read ahead by a second process, where the ledger can be opened again from its
    environment (a store handed over in this process, as the embedded demo's, cannot), unless
    not ``enabled``.

    The process is started with ``spawn``: the program that calls this must guard its own
    start with ``if __name__ == "__main__"`` (console scripts do). A forked process would start
    at once, but this one would then copy each page of its memory it first writes to (shared
    until then): measured, that cost more than the start saved, in a process holding a live
    projector's rows."""
    if source.env is None or not enabled:
        yield source
        return
    context: Any = multiprocessing.get_context("spawn")  # forking would copy this process's
    receiving, sending = context.Pipe(duplex=False)  # threads and database connections
    _widen(sending)
    process = context.Process(
        target=_read, args=(dict(source.env), batch_size, sending), name="ledger-reader"
    )
    # Started with Ctrl-C ignored (a spawned interpreter keeps an ignored SIGINT ignored), so
    # that it cannot die of one while it is still importing, before ``_read`` ignores it itself.
    main = threading.current_thread() is threading.main_thread()
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        process.start()
    finally:
        if main:
            signal.signal(signal.SIGINT, interrupt)
    sending.close()
    try:
        yield ReadAhead(receiving, source)
    finally:
        receiving.close()
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()
            process.join()
