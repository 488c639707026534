"""Builders and fakes for the notifier's tests: changes, a clock, a recording mail transport."""

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import Envelope, wrap
from etawatch.contracts.eta import ETA, parse_eta
from etawatch.contracts.messages import (
    ChangeKind,
    ETAChanged,
    FailureReason,
    ScrapeHealthDegraded,
)
from etawatch.notifier.adapters.sql.database import SqliteDatabase
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.ports import DeliveryError, MailSession, MailTransport
from etawatch.notifier.application.service import DeliveryOptions, NotifierService
from etawatch.notifier.domain.policy import NotificationPolicy
from etawatch.notifier.rendering.compose import EmailComposer, ShopProfile
from etawatch.runtime.bus import InMemoryBus, MessageBus

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
SHOP = ShopProfile(
    name="Figurky.cz",
    sender="objednavky@figurky.example",
    reply_to="podpora@figurky.example",
    contact_email="podpora@figurky.example",
    contact_url="https://figurky.example/kontakt",
    cancel_url_template="https://figurky.example/objednavky/{shop_order_id}/zruseni",
    footer="Figurky.cz s.r.o., Praha",
)


def eta(text: str) -> ETA:
    return parse_eta(text, TODAY)


State = tuple[Availability, str]
PRE = Availability.PRE_ORDER


def change(
    *,
    before: State | None = (PRE, "15. 3. 2027"),
    after: State = (PRE, "15. 4. 2027"),
    order: str = "2026-0001",
    sku: str = "FIG-1",
    item_name: str = "Figurka Geralt 1:6",
    kind: ChangeKind = ChangeKind.ETA_LATER,
    email: str = "jana@example.com",
    customer_name: str = "Jana Nováková",
    locale: str = "cs",
    observed_at: dt.datetime = NOW,
    change_id: str | None = None,
) -> Envelope[ETAChanged]:
    """An ``ETAChanged`` in its envelope; ``before=None`` is a (malformed) first sighting."""
    message = ETAChanged(
        shop_order_id=order,
        customer_id=f"customer-{email}",
        email=email,
        customer_name=customer_name,
        locale=locale,
        supplier="acme",
        sku=sku,
        item_name=item_name,
        quantity=1,
        previous_availability=None if before is None else before[0],
        new_availability=after[0],
        previous_eta=None if before is None else eta(before[1]),
        new_eta=eta(after[1]),
        change_kind=kind,
        observation_id=uuid.uuid4(),
        run_id=uuid.uuid4(),
        observed_at=observed_at,
    )
    return wrap(message, id=change_id or str(uuid.uuid4()), source="/test/ledger")


def health_alert(
    reason: FailureReason = FailureReason.LAYOUT_CHANGED, message: str = "table not found"
) -> Envelope[ScrapeHealthDegraded]:
    alert = ScrapeHealthDegraded(
        supplier="acme",
        consecutive_failures=3,
        last_reason=reason,
        last_message=message,
        last_run_id=uuid.uuid4(),
        failing_since=NOW,
    )
    return wrap(alert, id=str(uuid.uuid4()), source="/test/ledger")


@dataclass
class FakeClock:
    current: dt.datetime = NOW

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


@dataclass
class Sent:
    raw: bytes
    sender: str
    recipients: tuple[str, ...]


@dataclass
class RecordingTransport:
    """Records every message; raises the queued ``DeliveryError``s first, one per send."""

    sent: list[Sent] = field(default_factory=list)
    errors: list[DeliveryError] = field(default_factory=list)
    sessions: int = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[MailSession]:
        self.sessions += 1
        yield self

    async def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(Sent(raw, sender, tuple(recipients)))


async def memory_store() -> SqlNotifierStore:
    store = SqlNotifierStore(SqliteDatabase(":memory:"))
    await store.create_tables()
    return store


async def notifier(
    *,
    store: SqlNotifierStore | None = None,
    transport: MailTransport | None = None,
    bus: MessageBus | None = None,
    clock: FakeClock | None = None,
    policy: NotificationPolicy | None = None,
    options: DeliveryOptions | None = None,
) -> NotifierService:
    return NotifierService(
        store=store or await memory_store(),
        transport=transport or RecordingTransport(),
        bus=bus or InMemoryBus(),
        composer=EmailComposer(SHOP, "cs"),
        clock=clock or FakeClock(),
        policy=policy or NotificationPolicy(),
        options=options or DeliveryOptions(operator_email="provoz@figurky.example"),
    )
