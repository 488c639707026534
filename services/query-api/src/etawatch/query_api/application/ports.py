"""What the use cases need from the outside world, as small protocols the tests can fake."""

from collections.abc import Mapping, Sequence
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


class ViewStore(Protocol):
    """The views' database. ``commit`` writes rows, changes and the position in one
    transaction."""

    def position(self, projection: str) -> int: ...

    def session(self) -> AbstractContextManager[None]:
        """Loads of one batch share one read transaction (a no-op where that means nothing)."""
        ...

    def load(self, table: Table, key: Key) -> Row | None: ...

    def commit(
        self, projection: str, rows: Mapping[Table, Sequence[Row]], changes: Changes, position: int
    ) -> None:
        """Write the documents, then run the set-based changes in order, then the position."""
        ...

    def reset(self, projection: str, tables: Sequence[Table]) -> None:
        """Drop the projection's tables and its position; create them empty (``ensure`` adds
        their indexes)."""
        ...

    def checksum(self, tables: Sequence[Table]) -> str: ...

    def ensure(self, tables: Sequence[Table]) -> None: ...


class PositionTaken(Exception):  # noqa: N818 - says what happened
    """Another projector committed this position first: nothing was written."""
