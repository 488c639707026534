"""Where messages travel: exchanges, queues, routing keys and their arguments.

All exchanges are durable topic exchanges. Every consumer queue is a quorum queue with a
delivery limit and a dead-letter exchange; its poison messages land in ``<queue>.dlq``.
Observations are partitioned by item so that two ledger replicas keep each item's events in
order: the partition is part of the routing key, and each partition has its own queue with a
single active consumer.
"""

import hashlib
from dataclasses import dataclass, field
from typing import Any

SCRAPE_EXCHANGE = "etawatch.scrape"
ORDERS_EXCHANGE = "etawatch.orders"
LEDGER_EXCHANGE = "etawatch.ledger"
NOTIFICATIONS_EXCHANGE = "etawatch.notifications"
DEAD_LETTER_EXCHANGE = "etawatch.dlx"

EXCHANGES = (SCRAPE_EXCHANGE, ORDERS_EXCHANGE, LEDGER_EXCHANGE, NOTIFICATIONS_EXCHANGE)

DELIVERY_LIMIT = 5
OBSERVATION_PARTITIONS = 4

# Routing keys. ``*`` in a binding stands for one word, ``#`` for any number.
RK_OBSERVED = "observed.p{partition}.{supplier}"
RK_RUN_STARTED = "run.started.{supplier}"
RK_RUN_COMPLETED = "run.completed.{supplier}"
RK_RUN_FAILED = "run.failed.{supplier}"
RK_ORDER_PLACED = "order.placed"
RK_ORDER_CLOSED = "order.closed"
RK_ETA_CHANGED = "eta.changed.{supplier}"
RK_ITEM_MISSING = "item.missing.{supplier}"
RK_ITEM_RETURNED = "item.returned.{supplier}"
RK_HEALTH_DEGRADED = "health.degraded.{supplier}"
RK_CUSTOMER_NOTIFIED = "customer.notified"
RK_NOTIFICATION_FAILED = "notification.failed"

ERROR_HEADER = "x-etawatch-error"
"""Header that carries the reason a message was dead-lettered."""


def partition_of(supplier: str, sku: str, partitions: int = OBSERVATION_PARTITIONS) -> int:
    """Stable partition of an item: the same item always lands in the same partition."""
    digest = hashlib.blake2b(f"{supplier}\x1f{sku}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def observed_routing_key(supplier: str, sku: str, partitions: int = OBSERVATION_PARTITIONS) -> str:
    return RK_OBSERVED.format(partition=partition_of(supplier, sku, partitions), supplier=supplier)


@dataclass(frozen=True)
class Binding:
    exchange: str
    routing_key: str


@dataclass(frozen=True)
class QueueSpec:
    """A consumer queue, its bindings and its dead-letter queue."""

    name: str
    bindings: tuple[Binding, ...]
    single_active_consumer: bool = False
    delivery_limit: int = DELIVERY_LIMIT
    extra_arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def dlq_name(self) -> str:
        return f"{self.name}.dlq"

    @property
    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.name,
        }
        if self.single_active_consumer:
            args["x-single-active-consumer"] = True
        return args | self.extra_arguments

    @property
    def dlq_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": "quorum"}


def ledger_observation_queue(partition: int) -> QueueSpec:
    """One partition of the observations. Run events reach every partition after its rows."""
    return QueueSpec(
        name=f"ledger.observations.p{partition}",
        bindings=(
            Binding(SCRAPE_EXCHANGE, f"observed.p{partition}.*"),
            Binding(SCRAPE_EXCHANGE, "run.*.*"),
        ),
        single_active_consumer=True,
    )


LEDGER_ORDERS = QueueSpec(
    name="ledger.orders",
    bindings=(
        Binding(ORDERS_EXCHANGE, "order.*"),
        Binding(NOTIFICATIONS_EXCHANGE, "customer.notified"),
        Binding(NOTIFICATIONS_EXCHANGE, "notification.failed"),
    ),
    single_active_consumer=True,
)
NOTIFIER_CHANGES = QueueSpec(
    name="notifier.changes",
    bindings=(
        Binding(LEDGER_EXCHANGE, "eta.changed.*"),
        Binding(LEDGER_EXCHANGE, "health.degraded.*"),
    ),
)


def ledger_queues(partitions: int = OBSERVATION_PARTITIONS) -> tuple[QueueSpec, ...]:
    return (*(ledger_observation_queue(p) for p in range(partitions)), LEDGER_ORDERS)


def all_queues(partitions: int = OBSERVATION_PARTITIONS) -> tuple[QueueSpec, ...]:
    return (*ledger_queues(partitions), NOTIFIER_CHANGES)
