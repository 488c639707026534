"""The read models: each one a name, its tables and a pure ``apply(fact, rows)``."""

from collections.abc import Sequence
from typing import Protocol

from etawatch.query_api.domain.facts import Fact
from etawatch.query_api.domain.rows import Rows, Table


class Projection(Protocol):
    name: str
    tables: tuple[Table, ...]
    retired: tuple[str, ...]
    """Tables an earlier version of the projection kept and this one does not: dropped when
    the projection is started again from the first event (``ViewStore.ensure``)."""

    def apply(self, fact: Fact, rows: Rows) -> None: ...

    def prefetch(self, facts: Sequence[Fact], rows: Rows) -> None:
        """Name to ``rows`` the rows ``apply`` will ask for, applying these facts in turn, so
        that those not at hand are read together (``Rows.prefetch``), not one by one."""
        ...
