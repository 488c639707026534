"""Catch the views up with the ledger: read a batch, apply it, commit rows and position together.

Each projection commits its rows and the position it reached in one transaction, so an event is
applied exactly once however often the process stops in the middle of a batch: what was not
committed is read again, what was committed is never read again. Two projectors on one database
cannot both commit the same position (the tracking record refuses the second one).
"""

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from etawatch.query_api.application.batch import BatchRows, Known
from etawatch.query_api.application.ports import EventSource, PositionTaken, Target
from etawatch.query_api.domain.facts import Fact
from etawatch.query_api.domain.projections import Projection
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

Progress = Callable[[int], None]


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Rows are plain dicts and lists, freed by reference counting: while a batch builds a
    great many of them, the cyclic collector would only scan the rows kept between batches
    again and again (a rebuild keeps every row: it runs wholly inside this)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Projector:
    """Applies the events to the projections' tables in ``store``, which must exist (the live
    views: ``ViewStore.ensure``; a rebuild's staged copy has them)."""

    def __init__(
        self,
        source: EventSource,
        store: Target,
        projections: Iterable[Projection],
        batch_size: int = 1000,
        cache_rows: int = 1_000_000,
        *,
        batch_rows: int | None = None,
    ) -> None:
        """``batch_rows``: a projection commits as soon as its batch has changed this many rows
        (the next step goes on from there), so that a run of item changes, each rewriting every
        open order that holds the item, cannot make one batch's rows outgrow memory; nor does
        it read more rows than that ahead of its facts (``Projection.prefetch``)."""
        self.source = source
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size
        self.cache_rows = cache_rows
        self.batch_rows = batch_rows
        self._known: dict[str, Known] = {}
        self._committed: dict[str, tuple[int, int]] = {}
        """Per projection: the position this projector committed last, and the generation the
        rows it keeps were read from."""

    def catch_up(self, stop: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event not yet applied (up to ``stop``); return how many events were read."""
        read = 0
        while True:
            n = self.step(stop)
            if n == 0:
                return read
            read += n
            if progress is not None:
                progress(n)

    def step(self, stop: int | None = None) -> int:
        """Apply one batch to every projection that is behind; return how many events it read."""
        # The generation first: a rebuild that swaps in between then leaves a newer position
        # with the older generation, which the commit refuses. Read the other way round, the
        # older position would pass with the newer generation, and the events between the two
        # positions be applied again on the rebuilt rows.
        generations = {p.name: self.store.generation(p.name) for p in self.projections}
        positions = {p.name: self.store.position(p.name) for p in self.projections}
        start = min(positions.values(), default=0)
        limit = self.batch_size if stop is None else min(self.batch_size, stop - start)
        if limit <= 0:
            return 0
        with no_cyclic_gc():
            batch = self.source.read(after=start, limit=limit)
            if stop is not None and batch and batch[-1][0] > stop:
                # Positions skip numbers (PostgreSQL's, of transactions rolled back): ``limit``
                # events may reach beyond ``stop``, where a rebuild compares its copies.
                batch = [event for event in batch if event[0] <= stop]
            if not batch:
                return 0
            with self.store.session():
                for projection in self.projections:
                    name = projection.name
                    self._apply(projection, positions[name], generations[name], batch)
        return len(batch)

    def _apply(
        self,
        projection: Projection,
        position: int,
        generation: int,
        batch: Sequence[tuple[int, Fact | None]],
    ) -> None:
        name = projection.name
        # Rows this projector committed stay valid while the view is still at its own position
        # and no rebuild replaced it; a view it starts from nothing it knows completely, as long
        # as it keeps every row.
        if self._committed.get(name) == (position, generation) and name in self._known:
            known = self._known.pop(name)
        else:
            known = Known(complete=position == 0)
        self._committed.pop(name, None)
        rows = BatchRows(self.store, known, read_ahead=self.batch_rows)
        if not known.complete:
            projection.prefetch([f for seq, f in batch if seq > position and f is not None], rows)
        last = position
        limit = self.batch_rows
        for seq, fact in batch:
            if seq <= position:
                continue
            if fact is not None:
                projection.apply(fact, rows)
            last = seq
            if limit is not None and rows.changed() >= limit:
                break
        if last == position:
            return
        try:
            self.store.commit(name, rows.dirty(), rows.changes(), last, generation)
        except PositionTaken:
            log.info(
                "another projector or a rebuild got there first", projection=name, position=last
            )
            return
        self._committed[name] = (last, generation)
        if rows.size() <= self.cache_rows:
            self._known[name] = known

    def lag(self) -> dict[str, int]:
        head = self.source.head()
        return {p.name: max(0, head - self.store.position(p.name)) for p in self.projections}
