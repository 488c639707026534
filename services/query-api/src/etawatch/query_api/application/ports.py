"""What the use cases need from the outside world, as small protocols the tests can fake."""

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from etawatch.query_api.domain.facts import Fact
from etawatch.query_api.domain.rows import Changes, Key, Row, Table


class EventSource(Protocol):
    """The ledger's notification log, translated to facts (``None`` for events no view uses)."""

    def read(self, after: int, limit: int) -> Sequence[tuple[int, Fact | None]]: ...

    def head(self) -> int:
        """The position of the last recorded event (0 when there is none)."""
        ...


class Target(Protocol):
    """Where a projector writes: the live views, or a rebuild's staged copy of them."""

    def position(self, projection: str) -> int: ...

    def generation(self, projection: str) -> int:
        """Changes when a rebuild replaces the projection's tables: rows a projector keeps in
        memory are only good for the generation they were read from."""
        ...

    def session(self) -> AbstractContextManager[None]:
        """Loads of one batch share one read transaction (a no-op where that means nothing)."""
        ...

    def load(self, table: Table, key: Key) -> Row | None: ...

    def load_many(self, table: Table, keys: Sequence[Key]) -> dict[Key, Row]:
        """The rows of those keys that exist (one query per few hundred keys)."""
        ...

    def commit(
        self,
        projection: str,
        rows: Mapping[Table, Mapping[Key, Row]],
        changes: Changes,
        position: int,
        generation: int,
    ) -> None:
        """Write the documents (by key), then run the set-based changes in order, then the position.

        Raises ``PositionTaken`` (and writes nothing) when another projector committed this
        position first, or when the projection is no longer at ``generation``."""
        ...

    def checksum(self, tables: Sequence[Table]) -> str: ...


class Staged(Target, Protocol):
    """A private copy of some projections' tables, empty at first, that a rebuild fills while
    the live views go on answering, then swaps in at once."""

    def swap(self, behind: Callable[[int], None]) -> int:
        """Replace the live tables with the staged ones, in one transaction that holds off the
        live projectors.

        If the live views had got further than the staged ones, ``behind(live)`` is called
        first, inside that transaction, to bring the staged ones there (by committing to this
        object as before). The staged positions become the live ones, and each projection's
        generation moves on. Returns the position swapped in."""
        ...

    def swap_checked(
        self, behind: Callable[[int], None], check: Mapping[str, Sequence[Table]]
    ) -> tuple[int, dict[str, str]]:
        """``swap``, and the checksums of the staged tables of ``check``'s projections as they
        are when it is called (before ``behind`` moves them on): made while the swap writes,
        where the store can."""
        ...


class ViewStore(Target, Protocol):
    """The views' database. ``commit`` writes rows, changes and the position in one
    transaction."""

    def stage(
        self, projections: Mapping[str, Sequence[Table]], *, cache_rows: int = 1_000_000
    ) -> AbstractContextManager[Staged]:
        """Empty copies of these projections' tables, at position 0, private to the caller and
        dropped when the context ends (swapped in or not). ``cache_rows``: how many rows the
        copies may keep in memory rather than in the database."""
        ...

    def ensure(self, projection: str, tables: Sequence[Table], retired: Sequence[str] = ()) -> bool:
        """Create the projection's tables where missing; start it again from the first event
        (and return true) when it was stored by a version that laid it out otherwise, dropping
        the ``retired`` tables that version kept."""
        ...

    def position_and_checksum(self, projection: str, tables: Sequence[Table]) -> tuple[int, str]:
        """The projection's position and the checksum of its tables, read at one moment."""
        ...


class PositionTaken(Exception):  # noqa: N818 - says what happened
    """Another projector committed this position first, or a rebuild replaced the view since
    its rows were read: nothing was written."""
