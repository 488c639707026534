"""The messages of one run, with deterministic ids and the routing keys of the topology."""

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence

from etawatch.contracts import ids, topology
from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, wrap
from etawatch.contracts.messages import (
    FailureReason,
    ItemAvailabilityObserved,
    ScrapeRunCompleted,
    ScrapeRunFailed,
    ScrapeRunStarted,
)
from etawatch.runtime.bus import MessageBus
from etawatch.scraper.domain.rows import ScrapedRow
from etawatch.scraper.domain.validation import Report

SOURCE = "/etawatch/scraper"
MAX_TEXT = 1000

_ENVELOPE_CLASSES = tuple(
    Envelope[model]  # type: ignore[valid-type]
    for model in (ScrapeRunStarted, ItemAvailabilityObserved, ScrapeRunCompleted, ScrapeRunFailed)
)
"""Held so pydantic's cache of parametrised generics (weak references) keeps them: otherwise
``wrap`` rebuilds the ``Envelope[...]`` class again and again, half the cost of publishing."""


def _text(value: str) -> str:
    """The contract's texts are at most 1000 characters; a longer cell is cut, not refused."""
    return value[:MAX_TEXT]


class RunPublisher:
    """Publishes the messages of one run through the ``MessageBus`` port."""

    def __init__(
        self,
        bus: MessageBus,
        *,
        run_id: uuid.UUID,
        supplier: str,
        profile: str,
        started_at: dt.datetime,
        concurrency: int = 64,
    ) -> None:
        self.bus = bus
        self.run_id = run_id
        self.supplier = supplier
        self.profile = profile
        self.started_at = started_at
        self.concurrency = concurrency
        self.source = f"{SOURCE}/{profile}"

    async def _publish(
        self, message: Message, *, id: uuid.UUID, routing_key: str, subject: str | None = None
    ) -> None:
        envelope = wrap(
            message,
            id=id,
            source=self.source,
            subject=subject,
            correlation_id=str(self.run_id),
        )
        await self.bus.publish(envelope, exchange=topology.SCRAPE_EXCHANGE, routing_key=routing_key)

    async def _run_event(self, message: Message, kind: str, routing_key: str) -> None:
        await self._publish(
            message,
            id=ids.run_event_id(self.run_id, kind),
            routing_key=routing_key.format(supplier=self.supplier),
        )

    async def started(self) -> None:
        message = ScrapeRunStarted(
            run_id=self.run_id,
            supplier=self.supplier,
            profile=self.profile,
            started_at=self.started_at,
        )
        await self._run_event(message, "started", topology.RK_RUN_STARTED)

    def observation(self, row: ScrapedRow, position: int) -> ItemAvailabilityObserved:
        return ItemAvailabilityObserved(
            run_id=self.run_id,
            supplier=self.supplier,
            sku=row.sku,
            name=_text(row.name),
            manufacturer=_text(row.manufacturer) if row.manufacturer else None,
            availability=row.availability,
            availability_raw=_text(row.availability_raw),
            eta=row.eta
            if len(row.eta.raw) <= MAX_TEXT
            else row.eta.model_copy(update={"raw": _text(row.eta.raw)}),
            quantity_allocated=row.quantity_allocated,
            observed_at=row.observed_at,
            position=position,
        )

    async def observations(self, rows: Sequence[ScrapedRow]) -> None:
        """One ``ItemAvailabilityObserved`` per row; confirmed in bounded concurrent batches."""
        for start in range(0, len(rows), self.concurrency):
            batch = rows[start : start + self.concurrency]
            await asyncio.gather(
                *(
                    self._publish(
                        self.observation(row, start + offset),
                        id=ids.observation_id(self.run_id, self.supplier, row.sku),
                        routing_key=topology.observed_routing_key(self.supplier, row.sku),
                        subject=row.sku,
                    )
                    for offset, row in enumerate(batch)
                )
            )

    async def completed(self, report: Report, finished_at: dt.datetime) -> None:
        message = ScrapeRunCompleted(
            run_id=self.run_id,
            supplier=self.supplier,
            started_at=self.started_at,
            finished_at=finished_at,
            items_seen=report.items_seen,
            pages=report.pages,
            complete=True,  # see domain.validation: a read that fails is never published
            unknown_availability=report.unknown_availability,
            unreadable_eta=report.unreadable_eta,
            duplicate_skus=report.duplicate_skus,
            previous_items_seen=report.previous_items_seen,
        )
        await self._run_event(message, "completed", topology.RK_RUN_COMPLETED)

    async def failed(
        self,
        reason: FailureReason,
        message: str,
        failed_at: dt.datetime,
        artifacts: Sequence[str] = (),
    ) -> None:
        event = ScrapeRunFailed(
            run_id=self.run_id,
            supplier=self.supplier,
            started_at=self.started_at,
            failed_at=failed_at,
            reason=reason,
            message=_text(message),
            artifacts=tuple(artifacts),
        )
        await self._run_event(event, "failed", topology.RK_RUN_FAILED)
