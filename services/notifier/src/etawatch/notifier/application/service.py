"""The notifier as one object: ``handle`` a decoded envelope, ``flush_due`` what is due.

``handle`` only stores (a change waits for its order's debounce window; an operator alert is
queued at once), so a consumer acks right after it returns. ``flush_due(now)`` is the one
time-driven step: it turns every order whose window has passed into at most one digest, sends
what is queued over one connection, and publishes each outcome. The embedded demo and the tests
call it with the time they choose; in a service a loop calls it every few seconds.
"""

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from etawatch.contracts.envelope import Envelope, to_json
from etawatch.contracts.ids import notification_id
from etawatch.contracts.messages import (
    ETAChanged,
    NotificationFailureReason,
    ScrapeHealthDegraded,
)
from etawatch.notifier.application.delivery import (
    Delivery,
    DeliveryOptions,
    publish_outcomes,
    send_due,
)
from etawatch.notifier.application.ports import (
    Clock,
    MailTransport,
    NotificationKind,
    NotifierStore,
    Outgoing,
    SendStatus,
    StaleClaim,
)
from etawatch.notifier.domain.digest import plan_order
from etawatch.notifier.domain.model import FlushPlan, PendingChange, SuppressReason
from etawatch.notifier.domain.policy import NotificationPolicy
from etawatch.notifier.metrics import NotifierMetrics
from etawatch.notifier.rendering.compose import EmailComposer
from etawatch.runtime.bus import MessageBus, PoisonMessage
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

__all__ = ["Delivery", "DeliveryOptions", "NotifierService"]


@dataclass
class NotifierService:
    store: NotifierStore
    transport: MailTransport
    bus: MessageBus
    composer: EmailComposer
    clock: Clock
    policy: NotificationPolicy = field(default_factory=NotificationPolicy)
    options: DeliveryOptions = field(default_factory=DeliveryOptions)
    metrics: NotifierMetrics = field(default_factory=NotifierMetrics)

    # --- consuming ---------------------------------------------------------------------------

    async def handle(self, envelope: Envelope[Any]) -> None:
        """Store what an envelope asks for. Safe to call twice with the same envelope."""
        data = envelope.data
        if isinstance(data, ETAChanged):
            await self._on_change(envelope.id, data, to_json(envelope).decode())
        elif isinstance(data, ScrapeHealthDegraded):
            await self._on_health(envelope.id, data)
        else:
            raise PoisonMessage(f"the notifier does not handle {envelope.type}")

    async def _on_change(self, change_id: str, change: ETAChanged, raw: str) -> None:
        if change.previous_availability is None or change.previous_eta is None:
            # A first sighting is a baseline, not a change: never told, never a crash.
            self.metrics.suppressed.labels(SuppressReason.MISSING_PREVIOUS.value).inc()
            log.warning(
                "change without a previous value refused",
                change_id=change_id,
                shop_order_id=change.shop_order_id,
                sku=change.sku,
            )
            return
        pending = PendingChange(change_id, self.clock.now(), change)
        if await self.store.add_pending(pending, raw):
            self.metrics.received.inc()
            log.info("change stored", change_id=change_id, shop_order_id=change.shop_order_id)
        else:
            self.metrics.suppressed.labels(SuppressReason.DUPLICATE.value).inc()
            log.info("change seen before, ignored", change_id=change_id)

    async def _on_health(self, alert_id: str, alert: ScrapeHealthDegraded) -> None:
        to = self.options.operator_email
        if to is None:
            self.metrics.suppressed.labels(SuppressReason.NO_OPERATOR_ADDRESS.value).inc()
            log.warning("scrape health degraded, no operator address", supplier=alert.supplier)
            return
        now = self.clock.now()
        nid = notification_id([alert_id])
        email = self.composer.operator_email(alert, to, nid, now)
        queued = await self.store.queue(
            Outgoing(
                notification_id=str(nid),
                kind=NotificationKind.OPERATOR,
                recipient=email.recipient,
                sender=email.sender,
                subject=email.subject,
                message_id=email.message_id,
                change_ids=(alert_id,),
                raw=email.raw,
                created_at=now,
                queued_at=now,
                locale=email.language,
            )
        )
        if not queued:
            self.metrics.suppressed.labels(SuppressReason.DUPLICATE.value).inc()

    # --- retention ---------------------------------------------------------------------------

    async def prune(self, retention: dt.timedelta, *, dry_run: bool = False) -> dict[str, int]:
        """Delete (or with ``dry_run`` count) finished rows older than ``retention``."""
        counts = await self.store.prune(self.clock.now() - retention, dry_run=dry_run)
        if not dry_run:
            for table, deleted in counts.items():
                self.metrics.pruned.labels(table).inc(deleted)
        log.info("pruned" if not dry_run else "would prune", **counts)
        return counts

    # --- the time-driven step ----------------------------------------------------------------

    async def flush_due(self, now: dt.datetime | None = None) -> list[Delivery]:
        """Plan every order whose window has passed, send what is due, publish the outcomes."""
        now = now or self.clock.now()
        for shop_order_id in await self.store.due_orders(now - self.policy.debounce):
            await self._plan(shop_order_id, now)
        deliveries = await send_due(self.store, self.transport, self.metrics, self.options, now)
        await publish_outcomes(self.store, self.bus, self.options.batch_size)
        return deliveries

    async def _plan(self, shop_order_id: str, now: dt.datetime) -> None:
        pending = await self.store.pending_of(shop_order_id)
        if not pending:
            return
        plan = plan_order(
            shop_order_id, pending, await self.store.baselines_of(shop_order_id), self.policy
        )
        outgoing = self._outgoing(plan, now)
        try:
            await self.store.commit_plan(plan, outgoing)
        except StaleClaim:
            log.info("order taken by another worker", shop_order_id=shop_order_id)
            return
        if outgoing is not None and outgoing.failure_reason is not None:
            self.metrics.failed.labels(outgoing.failure_reason.value).inc()
            log.warning(
                "notification failed",
                notification_id=outgoing.notification_id,
                reason=outgoing.failure_reason.value,
            )
        for suppressed in plan.suppressed:
            self.metrics.suppressed.labels(suppressed.reason.value).inc()
            log.info(
                "change not told",
                shop_order_id=shop_order_id,
                sku=suppressed.key.sku,
                reason=suppressed.reason.value,
            )

    def _outgoing(self, plan: FlushPlan, now: dt.datetime) -> Outgoing | None:
        digest = plan.digest
        if digest is None:
            return None
        nid = notification_id(digest.change_ids)
        base = Outgoing(
            notification_id=str(nid),
            kind=NotificationKind.CUSTOMER,
            recipient=digest.recipient.email,
            sender="",
            subject="",
            message_id="",
            change_ids=digest.change_ids,
            raw=b"",
            created_at=now,
            queued_at=digest.queued_at,
            shop_order_id=digest.shop_order_id,
            customer_id=digest.recipient.customer_id,
            locale=digest.recipient.locale,
        )
        try:
            email = self.composer.customer_email(digest, nid, now)
        except ValueError as exc:  # an address the message cannot carry
            return replace(
                base,
                status=SendStatus.FAILED,
                finished_at=now,
                failure_reason=NotificationFailureReason.INVALID_ADDRESS,
                detail=f"cannot address the message: {exc}",
            )
        return replace(
            base,
            sender=email.sender,
            subject=email.subject,
            message_id=email.message_id,
            raw=email.raw,
        )
