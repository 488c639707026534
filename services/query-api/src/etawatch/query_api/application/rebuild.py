"""Drop a view, replay it from the first event, and check it equals the view it replaced."""

import time
from dataclasses import dataclass

from etawatch.query_api.application.ports import EventSource, ViewStore
from etawatch.query_api.application.projector import Progress, Projector
from etawatch.query_api.domain.projections import Projection


@dataclass(frozen=True)
class Rebuilt:
    projection: str
    position: int
    """The position the old view had reached; the rebuilt one is compared there."""
    events: int
    seconds: float
    before: str
    after: str

    @property
    def equal(self) -> bool:
        return self.before == self.after

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def rebuild(
    source: EventSource,
    store: ViewStore,
    projection: Projection,
    *,
    batch_size: int = 1000,
    cache_rows: int = 1_000_000,
    progress: Progress | None = None,
    catch_up: bool = True,
) -> Rebuilt:
    """Replay ``projection`` from the first event up to where it was, compare, then catch up."""
    position = store.position(projection.name)
    before = store.checksum(projection.tables)
    store.reset(projection.name, projection.tables)
    projector = Projector(
        source,
        store,
        [projection],
        batch_size=batch_size,
        cache_rows=cache_rows,
        create_tables=False,  # ``reset`` made them; their indexes come after the replay
    )
    started = time.perf_counter()
    events = projector.catch_up(stop=position, progress=progress)
    seconds = time.perf_counter() - started
    store.ensure(projection.tables)
    after = store.checksum(projection.tables)
    if catch_up:
        projector.catch_up()
    return Rebuilt(projection.name, position, events, seconds, before, after)
