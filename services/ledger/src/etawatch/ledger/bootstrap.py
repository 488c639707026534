"""The one place where the ledger's real adapters are chosen and put together."""

from faststream.rabbit import RabbitBroker

from etawatch.ledger.adapters.advisory_lease import relay_lease
from etawatch.ledger.application.service import Ledger, LedgerOptions
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.config import LedgerSettings
from etawatch.ledger.entrypoints.stream import ConsumerOptions, LedgerConsumer
from etawatch.runtime.health import Check, blocking_check
from etawatch.runtime.rabbit import broker_check


def build_store(settings: LedgerSettings) -> LedgerStore:
    return LedgerStore(env=settings.event_store_env())


def ledger_options(settings: LedgerSettings) -> LedgerOptions:
    return LedgerOptions(
        partitions=settings.partitions,
        missing_after_runs=settings.missing_after_runs,
        degraded_after_failures=settings.degraded_after_failures,
        max_staged_runs=settings.max_staged_runs,
        max_staged_rows=settings.max_staged_rows,
        save_attempts=settings.save_attempts,
        relay_batch=settings.relay_batch,
        max_events_per_save=settings.max_events_per_save,
    )


def build_ledger(settings: LedgerSettings, store: LedgerStore | None = None) -> Ledger:
    """The embedded-mode object: wire it with ``ledger.wire(bus)`` and drive ``relay_once``."""
    store = store or build_store(settings)
    return Ledger(store, ledger_options(settings), relay_lease(store))


def build_consumer(settings: LedgerSettings, ledger: Ledger | None = None) -> LedgerConsumer:
    broker = RabbitBroker(settings.amqp_url.get_secret_value(), logger=None)
    options = ConsumerOptions(
        batch_size=settings.batch_size,
        batch_seconds=settings.batch_seconds,
        prefetch=settings.prefetch,
        relay=settings.relay_enabled,
        relay_interval=settings.relay_interval_seconds,
    )
    return LedgerConsumer(ledger or build_ledger(settings), broker, options)


def readiness_checks(consumer: LedgerConsumer) -> dict[str, Check]:
    """What ``/readyz`` asks: the broker connection, and the event store (its newest id)."""
    return {
        "broker": broker_check(consumer.broker),
        "store": blocking_check(consumer.ledger.store.process_recorder.max_notification_id),
    }
