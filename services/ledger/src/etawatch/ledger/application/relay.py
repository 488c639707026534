"""The outbox relay: stored events other services need, published at least once.

Each stored event becomes one message whose id is ``stored_event_id(originator_id, version)``,
so a re-publish after a crash carries the same id and consumers deduplicate. The position (the
last notification relayed) is a tracking record in the same database as the events.
"""

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import IntegrityError, Notification, Tracking
from eventsourcing.utils import get_topic

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, wrap
from etawatch.contracts.eta import ETA
from etawatch.contracts.messages import ETAChanged, ItemMissing, ItemReturned, ScrapeHealthDegraded
from etawatch.contracts.topology import (
    LEDGER_EXCHANGE,
    RK_ETA_CHANGED,
    RK_HEALTH_DEGRADED,
    RK_ITEM_MISSING,
    RK_ITEM_RETURNED,
)
from etawatch.ledger.application.store import RELAY_TRACKING_NAME, LedgerStore
from etawatch.ledger.domain.health import Degraded
from etawatch.ledger.domain.item import Returned, WentMissing
from etawatch.ledger.domain.order import LineItemChanged
from etawatch.ledger.domain.values import stored_event_id

SOURCE = "/etawatch/ledger"


@dataclass(frozen=True)
class Outgoing:
    notification_id: int
    envelope: Envelope[Message]
    routing_key: str


def _eta_changed(e: Any) -> tuple[Message, str, str]:
    fields = {name: getattr(e, name) for name in ETAChanged.model_fields}
    fields["previous_eta"] = ETA.model_validate(e.previous_eta) if e.previous_eta else None
    fields["new_eta"] = ETA.model_validate(e.new_eta)
    message = ETAChanged.model_validate(fields)
    return message, RK_ETA_CHANGED.format(supplier=e.supplier), f"{e.shop_order_id}/{e.sku}"


def _missing(e: Any) -> tuple[Message, str, str]:
    message = ItemMissing(
        supplier=e.supplier,
        sku=e.sku,
        item_name=e.item_name,
        last_seen_at=e.last_seen_at,
        run_id=e.run_id,
        complete_runs_without=e.complete_runs_without,
    )
    return message, RK_ITEM_MISSING.format(supplier=e.supplier), f"{e.supplier}/{e.sku}"


def _returned(e: Any) -> tuple[Message, str, str]:
    message = ItemReturned(
        supplier=e.supplier,
        sku=e.sku,
        item_name=e.item_name,
        run_id=e.run_id,
        returned_at=e.returned_at,
        availability=e.availability,
        eta=ETA.model_validate(e.eta),
    )
    return message, RK_ITEM_RETURNED.format(supplier=e.supplier), f"{e.supplier}/{e.sku}"


def _degraded(e: Any) -> tuple[Message, str, str]:
    message = ScrapeHealthDegraded(
        supplier=e.supplier,
        consecutive_failures=e.consecutive_failures,
        last_reason=e.last_reason,
        last_message=e.last_message,
        last_run_id=e.last_run_id,
        failing_since=e.failing_since,
    )
    return message, RK_HEALTH_DEGRADED.format(supplier=e.supplier), e.supplier


RELAYED: dict[str, Callable[[Any], tuple[Message, str, str]]] = {
    get_topic(LineItemChanged): _eta_changed,
    get_topic(WentMissing): _missing,
    get_topic(Returned): _returned,
    get_topic(Degraded): _degraded,
}


def pending(store: LedgerStore, limit: int) -> list[Outgoing]:
    """The next stored events to relay, after the recorded position."""
    recorder = store.process_recorder
    position = recorder.max_tracking_id(RELAY_TRACKING_NAME) or 0
    notifications: Sequence[Notification] = recorder.select_notifications(
        start=position, limit=limit, topics=tuple(RELAYED), inclusive_of_start=False
    )
    return [outgoing(store, n) for n in notifications]


def outgoing(store: LedgerStore, notification: Notification) -> Outgoing:
    event: Any = store.mapper.to_domain_event(notification)
    message, routing_key, subject = RELAYED[notification.topic](event)
    run_id = getattr(event, "run_id", None) or getattr(event, "last_run_id", None)
    cause = getattr(event, "observation_id", None)
    envelope = wrap(
        message,
        id=stored_event_id(event.originator_id, event.originator_version),
        source=SOURCE,
        subject=subject,
        time=event.timestamp,
        correlation_id=str(run_id) if run_id else None,
        causation_id=str(cause) if cause else None,
    )
    return Outgoing(notification.id, envelope, routing_key)


def advance(store: LedgerStore, notification_id: int) -> None:
    """Record the position; a replica that got further already is not an error."""
    with contextlib.suppress(IntegrityError):
        store.process_recorder.insert_tracking(Tracking(RELAY_TRACKING_NAME, notification_id))


EXCHANGE = LEDGER_EXCHANGE
