"""The ledger as one object: the handlers the broker (or the in-process bus) calls.

- ``handle_batch(envelopes, partition)``: observations and run events of one partition queue.
- ``handle_command(envelope)``: ``OrderPlaced``/``OrderClosed`` and the notifier's feedback.
- ``relay_once(bus)``: publish the stored events other services need; returns how many. Only
  while the relay lease is held (``application/lease.py``): one replica relays at a time.

Store work is blocking (eventsourcing), so it runs in a worker thread, one unit of work at a
time per process. Each unit of work is planned against the in-memory index, saved in one atomic
save, and only then folded into the index. A conflict (another replica wrote the same
aggregate) reads the store's tail and plans again.
"""

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError, Recording

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope
from etawatch.contracts.messages import (
    FailureReason,
    ItemAvailabilityObserved,
    ScrapeRunCompleted,
    ScrapeRunFailed,
    ScrapeRunStarted,
)
from etawatch.contracts.topology import LEDGER_ORDERS, ledger_observation_queue
from etawatch.ledger import metrics
from etawatch.ledger.application import relay
from etawatch.ledger.application.commands import CommandRefusedError, apply_command
from etawatch.ledger.application.compare import RunRules, compare_run
from etawatch.ledger.application.health import Reported, record_outcome
from etawatch.ledger.application.lease import RelayLease, SoleRelay
from etawatch.ledger.application.staging import Staging
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.application.work import Work
from etawatch.ledger.domain.index import INDEX_TOPICS, LedgerIndex
from etawatch.ledger.domain.runs import RunCompared, RunNotCompared
from etawatch.ledger.domain.state import Row
from etawatch.runtime.bus import InMemoryBus, MessageBus, PoisonMessage
from etawatch.runtime.log import get_logger

log = get_logger(__name__)
INDEX_TOPIC_SET = frozenset(INDEX_TOPICS)
T = TypeVar("T")


@dataclass(frozen=True)
class LedgerOptions:
    partitions: int = 4
    missing_after_runs: int = 2
    degraded_after_failures: int = 3
    max_staged_runs: int = 4
    max_staged_rows: int = 2_000_000
    save_attempts: int = 8
    relay_batch: int = 500
    max_events_per_save: int = 2000
    """A run that changes more is saved in parts of about this many events."""
    health_partition: int = 0
    """The partition whose consumer records run outcomes (run events reach every partition)."""


@dataclass(frozen=True)
class Rejected:
    envelope: Envelope[Message]
    reason: str


@dataclass
class Stats:
    observations: int = 0
    events_written: int = 0
    conflicts: int = 0
    runs_compared: int = 0
    runs_not_compared: int = 0
    late_rows: int = 0
    relayed: int = 0
    relay_leader: bool = False
    rejected: list[str] = field(default_factory=list)


class Ledger:
    def __init__(
        self,
        store: LedgerStore,
        options: LedgerOptions | None = None,
        lease: RelayLease | None = None,
    ) -> None:
        """``lease`` decides which replica relays; ``bootstrap.build_ledger`` picks it for the
        store. Without one, this ledger relays as if it were the only one."""
        self.store = store
        self.options = options or LedgerOptions()
        self.lease: RelayLease = lease or SoleRelay()
        self.index = LedgerIndex(self.options.partitions)
        self.staging = {
            p: Staging(self.options.max_staged_runs, self.options.max_staged_rows)
            for p in range(self.options.partitions)
        }
        self.rules = RunRules(self.options.missing_after_runs, self.options.degraded_after_failures)
        self.stats = Stats()
        self._lock = threading.Lock()

    # --- start and catch-up -----------------------------------------------------------------

    def catch_up(self) -> int:
        """Fold every stored event not yet in the index (all of them at start).

        Reads every notification (other topics are skipped unread) so that the position is the
        log's own, and a commit that follows it directly can be folded without reading it back.
        """
        folded = 0
        page = 2000
        while True:
            notifications = self.store.recorder.select_notifications(
                start=self.index.position, limit=page, inclusive_of_start=False
            )
            for notification in notifications:
                if notification.topic in INDEX_TOPIC_SET:
                    self.index.apply(self.store.mapper.to_domain_event(notification))
                    folded += 1
                self.index.position = notification.id
            if len(notifications) < page:
                return folded

    async def start(self) -> int:
        return await self._run(self.catch_up)

    # --- observations and run events --------------------------------------------------------

    async def handle_batch(
        self, envelopes: Sequence[Envelope[Message]], partition: int = 0
    ) -> list[Rejected]:
        """Handle one batch of a partition queue; return the messages it refuses."""
        return await self._run(lambda: self._handle_batch(envelopes, partition))

    def observation_handler(
        self, partition: int
    ) -> Callable[[Sequence[Envelope[Message]]], Awaitable[None]]:
        async def handle(envelopes: Sequence[Envelope[Message]]) -> None:
            for rejected in await self.handle_batch(envelopes, partition):
                log.warning("message refused", id=rejected.envelope.id, reason=rejected.reason)

        return handle

    def _handle_batch(
        self, envelopes: Sequence[Envelope[Message]], partition: int
    ) -> list[Rejected]:
        staging = self.staging[partition]
        rejected: list[Rejected] = []
        held = 0
        for envelope in envelopes:
            message = envelope.data
            if isinstance(message, ItemAvailabilityObserved):
                held += 1
                staging.add(message.run_id, Row.of(message))
            elif isinstance(message, ScrapeRunStarted):
                staging.open(message.run_id, message.supplier, message.started_at.timestamp())
            elif isinstance(message, ScrapeRunCompleted | ScrapeRunFailed):
                plan = partial(self._plan_outcome, message=message, partition=partition)
                while not self._commit(plan):
                    pass  # a large run is saved in parts; each part is one atomic save
                staging.forget(message.run_id)
            else:
                reason = f"the ledger's observation queue does not take {envelope.type}"
                rejected.append(Rejected(envelope, reason))
                self.stats.rejected.append(reason)
                metrics.REFUSED.inc()
        self.stats.observations += held
        metrics.OBSERVATIONS.inc(held)
        return rejected

    def _plan_outcome(
        self, work: Work, *, message: ScrapeRunCompleted | ScrapeRunFailed, partition: int
    ) -> bool:
        """Plan what a run's outcome records; False when only a part of it was planned."""
        supplier, run_id = message.supplier, message.run_id
        if partition == self.options.health_partition:
            if isinstance(message, ScrapeRunFailed):
                failed, reason, text, at = True, message.reason, message.message, message.failed_at
            else:
                failed = not message.complete
                reason, at = FailureReason.TRUNCATED, message.finished_at
                text = message.incomplete_reason or ("incomplete run" if failed else "")
            record_outcome(
                work,
                supplier,
                run_id,
                failed=failed,
                reason=reason,
                message=text,
                at=at,
                reported=Reported.of(message),
                degrade_after=self.rules.degraded_after_failures,
            )
        run_log = work.run_log(supplier, partition)
        if run_id in run_log.decided:
            return True  # the same outcome delivered again
        not_comparable = self._not_comparable(message, partition, run_log.last_started_at)
        if not_comparable is not None:
            work.record_run(run_log, RunNotCompared, run_id=run_id, reason=not_comparable)
            return True
        staged = self.staging[partition].get(run_id)
        if staged is None or not isinstance(message, ScrapeRunCompleted):  # pragma: no cover
            raise AssertionError("a comparable run is a completed, staged one")
        return compare_run(
            work,
            message,
            staged,
            partition,
            rules_=self.rules,
            limit=self.options.max_events_per_save,
        )

    def _not_comparable(
        self, message: ScrapeRunCompleted | ScrapeRunFailed, partition: int, last_started: float
    ) -> str | None:
        if isinstance(message, ScrapeRunFailed):
            return f"run failed: {message.reason.value}"
        if not message.complete:
            return f"run incomplete: {message.incomplete_reason or 'no reason given'}"
        staged = self.staging[partition].get(message.run_id)
        if staged is None:
            return "the ledger did not hold the whole run (restarted or dropped while it ran)"
        if staged.overflowed:
            return "the run had more rows than the ledger holds per run"
        if message.started_at.timestamp() <= last_started:
            return "a newer run was compared already"
        return None

    # --- orders ------------------------------------------------------------------------------

    async def handle_command(self, envelope: Envelope[Message]) -> None:
        """Record an order command or notifier feedback. Raises ``PoisonMessage`` if refused."""
        try:
            await self._run(lambda: self._commit(lambda work: apply_command(work, envelope.data)))
        except CommandRefusedError as exc:
            self.stats.rejected.append(str(exc))
            metrics.REFUSED.inc()
            raise PoisonMessage(str(exc)) from exc

    # --- relay --------------------------------------------------------------------------------

    async def relay_once(self, bus: MessageBus) -> int:
        """Publish the next stored events other services need; return how many.

        Nothing (0) while another replica holds the relay lease.
        """
        if not self._lead(await asyncio.to_thread(self.lease.held)):
            return 0
        batch = await asyncio.to_thread(relay.pending, self.store, self.options.relay_batch)
        for item in batch:
            await bus.publish(item.envelope, exchange=relay.EXCHANGE, routing_key=item.routing_key)
        if batch:
            await asyncio.to_thread(relay.advance, self.store, batch[-1].notification_id)
        self.stats.relayed += len(batch)
        metrics.RELAYED.inc(len(batch))
        return len(batch)

    def _lead(self, held: bool) -> bool:
        if held != self.stats.relay_leader:
            log.info("relay leadership taken" if held else "relay leadership lost")
            self.stats.relay_leader = held
        metrics.RELAY_LEADER.set(held)
        return held

    async def release_relay(self) -> None:
        """Give the relay lease up (at shutdown): another replica takes over at once."""
        await asyncio.to_thread(self.lease.release)
        self._lead(False)

    # --- embedded mode ----------------------------------------------------------------------

    def wire(self, bus: InMemoryBus, batch_size: int = 1000) -> None:
        """Consume the ledger's queues from the in-process bus."""
        for partition in range(self.options.partitions):
            spec = ledger_observation_queue(partition)
            bus.declare(spec)
            bus.consume_batches(spec.name, self.observation_handler(partition), batch_size)
        bus.declare(LEDGER_ORDERS)
        bus.consume(LEDGER_ORDERS.name, self.handle_command)

    # --- the unit of work -------------------------------------------------------------------

    def _commit(self, plan: Callable[[Work], bool | None]) -> bool:
        """Plan against the index, save atomically, fold into the index; retry on conflict.

        Returns what the plan said (False: only a part was planned and saved), True for None.
        """
        for attempt in range(1, self.options.save_attempts + 1):
            self.catch_up()  # another replica may have written since (a partition failed over)
            work = Work(self.index, self.store)
            done = plan(work) is not False
            if work.empty:
                return done
            try:
                recordings = self.store.save_all(work.events, work.aggregates())
            except IntegrityError:
                self.stats.conflicts += 1
                metrics.CONFLICTS.inc()
                log.info("concurrent write, planning again", attempt=attempt)
                continue
            self._count(recordings)
            first = recordings[0].notification.id if recordings else None
            if first == self.index.position + 1:
                for recording in recordings:
                    self.index.apply(recording.domain_event)
                self.index.position = recordings[-1].notification.id
            return done
        raise IntegrityError(f"gave up after {self.options.save_attempts} concurrent writes")

    def _count(self, recordings: Sequence[Recording[Any]]) -> None:
        self.stats.events_written += len(recordings)
        metrics.EVENTS_WRITTEN.inc(len(recordings))
        for recording in recordings:
            if isinstance(recording.domain_event, RunCompared):
                self.stats.runs_compared += 1
                metrics.RUNS.labels("compared").inc()
            elif isinstance(recording.domain_event, RunNotCompared):
                self.stats.runs_not_compared += 1
                metrics.RUNS.labels("not_compared").inc()

    async def _run(self, fn: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return fn()

        return await asyncio.to_thread(locked)


def order_ids(ledger: Ledger, item: uuid.UUID) -> set[uuid.UUID]:
    """Open orders holding an item, as the ledger knows them now."""
    return set(ledger.index.open_orders_by_item.get(item, set()))
