"""Replay views from the first event beside the live ones, check them, and swap them in.

The live views go on answering (and their projector on writing) while the copies are built:
``ViewStore.stage`` gives empty copies private to the rebuild. Each copy is compared with its
live view at the position the live view had when the rebuild started (a checksum of the same
rows), then caught up with the ledger, and all are swapped in at once: a reader sees the old
views or the new ones, never an empty or half-built one.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from etawatch.query_api.application.ports import EventSource, ViewStore
from etawatch.query_api.application.projector import Progress, Projector, no_cyclic_gc
from etawatch.query_api.domain.projections import Projection


@dataclass(frozen=True)
class Rebuilt:
    projection: str
    position: int
    """The position the live view had when the rebuild started; the two are compared there."""
    before: str
    after: str

    @property
    def equal(self) -> bool:
        return self.before == self.after


@dataclass(frozen=True)
class Rebuild:
    views: list[Rebuilt]
    events: int
    """Events read until the last comparison (each once, however many views)."""
    seconds: float
    """Time to read those events and write them to the copies, with the checksums of the copies
    made before the swap (of views that had not got as far as the others, or all of them when
    the ledger had moved on meanwhile); the live views' checksums, read from the database, do
    not count."""
    swap_seconds: float
    """Time to catch up and swap the copies in, with their indexes and the copies' other
    checksums (made while the swap writes; they make the values it writes)."""
    swapped_at: int
    """The position the new views were swapped in at: as far as the ledger had got when the
    replay ended, or further if the live views had got there meanwhile."""

    @property
    def equal(self) -> bool:
        return all(view.equal for view in self.views)

    @property
    def events_per_second(self) -> float:
        """Of the whole: replay, checksums of the copies and swap."""
        whole = self.seconds + self.swap_seconds
        return self.events / whole if whole > 0 else 0.0


def rebuild(
    source: EventSource,
    store: ViewStore,
    projections: Sequence[Projection],
    *,
    batch_size: int = 1000,
    cache_rows: int = 1_000_000,
    progress: Progress | None = None,
) -> Rebuild:
    """Rebuild ``projections`` in one pass over the events; see the module's docstring."""
    with no_cyclic_gc():
        return _rebuild(
            source,
            store,
            projections,
            batch_size=batch_size,
            cache_rows=cache_rows,
            progress=progress,
        )


def _rebuild(
    source: EventSource,
    store: ViewStore,
    projections: Sequence[Projection],
    *,
    batch_size: int,
    cache_rows: int,
    progress: Progress | None,
) -> Rebuild:
    for projection in projections:  # views made before this version get their new tables
        store.ensure(projection.name, projection.tables, projection.retired)
    with store.stage({p.name: p.tables for p in projections}, cache_rows=cache_rows) as staged:
        # A live projector may commit while these are read: each view is compared at its own.
        read = {p.name: store.position_and_checksum(p.name, p.tables) for p in projections}
        marks = {name: position for name, (position, _) in read.items()}
        before = {name: checksum for name, (_, checksum) in read.items()}
        top = max(marks.values(), default=0)
        projector = Projector(source, staged, projections, batch_size, cache_rows)
        after: dict[str, str] = {}
        started = time.perf_counter()
        events = 0
        for projection in sorted(projections, key=lambda p: marks[p.name]):
            events += projector.catch_up(stop=marks[projection.name], progress=progress)
            if marks[projection.name] < top:
                after[projection.name] = staged.checksum(projection.tables)
        # The copies of the views furthest on are checked as they are swapped in, unless the
        # ledger has moved on since: then now, before they do.
        last = {p.name: p.tables for p in projections if p.name not in after}
        if source.head() > top:
            after.update((name, staged.checksum(tables)) for name, tables in last.items())
            last = {}
        seconds = time.perf_counter() - started

        def behind(live: int) -> None:
            projector.catch_up(stop=live)

        started = time.perf_counter()
        if not last:  # else they stay where they were checked, unless the live views are further
            projector.catch_up()
        swapped_at, sums = staged.swap_checked(behind, last)
        after.update(sums)
        swap_seconds = time.perf_counter() - started
    views = [Rebuilt(p.name, marks[p.name], before[p.name], after[p.name]) for p in projections]
    return Rebuild(views, events, seconds, swap_seconds, swapped_at)
