"""The health of one supplier's scraping: consecutive failed runs, and when that degraded."""

# ruff: noqa: ARG002, PLR0917 - an @event method's parameters are its event's fields

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from etawatch.ledger.domain.values import supplier_health_id


class SupplierHealth(Aggregate):
    """Outcomes of one supplier's scrape runs. Its id is ``values.supplier_health_id(supplier)``."""

    @staticmethod
    def create_id(supplier: str, **_: Any) -> uuid.UUID:
        return supplier_health_id(supplier)

    @event("Registered")
    def __init__(self, supplier: str) -> None:
        self.supplier = supplier
        self.consecutive_failures = 0
        self.failing_since: dt.datetime | None = None
        self.degraded = False
        self.runs: list[str] = []

    def knows(self, run_id: uuid.UUID) -> bool:
        return str(run_id) in self.runs

    class RunSucceeded(Aggregate.Event):
        """A complete run, with what the scraper reported of it.

        Version 2 added ``started_at``, ``items_seen`` and ``pages``; version 1 events read them as
        None. Version 3 added the scraper's data-quality counts (``unknown_availability``,
        ``unreadable_eta``, ``duplicate_skus``); version 1 and 2 events read them as None.
        """

        class_version = 3

        run_id: uuid.UUID
        finished_at: dt.datetime
        started_at: dt.datetime | None
        items_seen: int | None
        pages: int | None
        unknown_availability: int | None
        unreadable_eta: int | None
        duplicate_skus: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(started_at=None, items_seen=None, pages=None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(unknown_availability=None, unreadable_eta=None, duplicate_skus=None)

    class RunFailed(Aggregate.Event):
        """A failed run, or a run that read less than it should (``reason="truncated"``).

        Version 2 added ``started_at``, ``items_seen`` and ``pages`` (None for a run that failed:
        the scraper reports no counts then) and ``artifacts`` (the screenshot and page HTML saved
        when it failed); version 1 events read them all as None. Version 3 added the scraper's
        data-quality counts (``unknown_availability``, ``unreadable_eta``, ``duplicate_skus``:
        None for a run that failed, kept for a truncated one); version 1 and 2 events read them as
        None.
        """

        class_version = 3

        run_id: uuid.UUID
        reason: str
        message: str
        failed_at: dt.datetime
        started_at: dt.datetime | None
        items_seen: int | None
        pages: int | None
        artifacts: list[str] | None
        unknown_availability: int | None
        unreadable_eta: int | None
        duplicate_skus: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(started_at=None, items_seen=None, pages=None, artifacts=None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(unknown_availability=None, unreadable_eta=None, duplicate_skus=None)

    @event(RunSucceeded)
    def run_succeeded(
        self,
        run_id: uuid.UUID,
        finished_at: dt.datetime,
        started_at: dt.datetime | None,
        items_seen: int | None,
        pages: int | None,
        unknown_availability: int | None,
        unreadable_eta: int | None,
        duplicate_skus: int | None,
    ) -> None:
        self._remember(run_id)
        self.consecutive_failures = 0
        self.failing_since = None
        self.degraded = False

    @event(RunFailed)
    def run_failed(
        self,
        run_id: uuid.UUID,
        reason: str,
        message: str,
        failed_at: dt.datetime,
        started_at: dt.datetime | None,
        items_seen: int | None,
        pages: int | None,
        artifacts: list[str] | None,
        unknown_availability: int | None,
        unreadable_eta: int | None,
        duplicate_skus: int | None,
    ) -> None:
        self._remember(run_id)
        self.consecutive_failures += 1
        if self.failing_since is None:
            self.failing_since = failed_at

    @event("Degraded")
    def degrade(
        self,
        supplier: str,
        consecutive_failures: int,
        last_reason: str,
        last_message: str,
        last_run_id: uuid.UUID,
        failing_since: dt.datetime,
    ) -> None:
        self.degraded = True

    def _remember(self, run_id: uuid.UUID) -> None:
        self.runs = [*self.runs[-99:], str(run_id)]


# The event classes the @event decorator made, named for type checkers and readers.
Registered: type[Any] = vars(SupplierHealth)["Registered"]
RunSucceeded: type[Any] = vars(SupplierHealth)["RunSucceeded"]
RunFailed: type[Any] = vars(SupplierHealth)["RunFailed"]
Degraded: type[Any] = vars(SupplierHealth)["Degraded"]
