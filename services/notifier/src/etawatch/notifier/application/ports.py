"""The small interfaces the application needs; adapters implement them, tests fake them."""

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from etawatch.contracts.messages import NotificationFailureReason
from etawatch.notifier.domain.model import Baseline, FlushPlan, ItemKey, PendingChange


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class SendStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class NotificationKind(StrEnum):
    CUSTOMER = "customer"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A row of the send log: one notification, its rendered message and where it stands."""

    notification_id: str
    kind: NotificationKind
    recipient: str
    sender: str
    subject: str
    message_id: str
    change_ids: tuple[str, ...]
    raw: bytes
    created_at: dt.datetime
    queued_at: dt.datetime
    shop_order_id: str | None = None
    customer_id: str | None = None
    locale: str | None = None
    status: SendStatus = SendStatus.SENDING
    attempts: int = 0
    finished_at: dt.datetime | None = None
    failure_reason: NotificationFailureReason | None = None
    detail: str | None = None


class StaleClaim(Exception):  # noqa: N818 - the situation, not a failure of ours
    """Another worker took the same changes first; nothing was written."""


class NotifierStore(Protocol):
    """Pending changes, what each customer knows, and the send log, in one database."""

    async def add_pending(self, change: PendingChange, envelope_json: str) -> bool:
        """Store a change; False when its id is known already (redelivery, replay)."""

    async def due_orders(self, received_before: dt.datetime) -> list[str]:
        """Orders whose oldest pending change arrived before ``received_before``."""

    async def pending_of(self, shop_order_id: str) -> list[PendingChange]: ...

    async def baselines_of(self, shop_order_id: str) -> dict[ItemKey, Baseline]: ...

    async def commit_plan(self, plan: FlushPlan, outgoing: Outgoing | None) -> None:
        """Consume the plan's changes, save its baselines and queue its message, atomically.

        Raises ``StaleClaim`` (and writes nothing) when any change was consumed meanwhile.
        """

    async def queue(self, outgoing: Outgoing) -> bool:
        """Queue a message that needs no plan (operator alerts); False when known already."""

    async def claim_sendable(
        self, now: dt.datetime, lease_until: dt.datetime, limit: int
    ) -> list[Outgoing]:
        """Take messages due for a (new) attempt, leased until ``lease_until``."""

    async def mark_sent(self, notification_id: str, at: dt.datetime) -> None: ...

    async def mark_failed(
        self,
        notification_id: str,
        reason: NotificationFailureReason,
        detail: str,
        at: dt.datetime,
    ) -> None: ...

    async def retry_later(self, notification_id: str, at: dt.datetime, detail: str) -> None: ...

    async def unpublished(self, limit: int) -> list[Outgoing]:
        """Finished customer notifications whose outcome is not yet published."""

    async def mark_published(self, notification_id: str) -> None: ...

    async def get(self, notification_id: str) -> Outgoing | None: ...

    async def prune(self, before: dt.datetime, *, dry_run: bool = False) -> dict[str, int]:
        """Delete finished rows older than ``before`` (or only count them); counts per table."""


class DeliveryError(Exception):
    """A message was not accepted. ``permanent`` ones are never retried.

    ``connection_lost``: the server cannot be reached at all, so the rest of the batch waits too.
    """

    def __init__(
        self,
        detail: str,
        *,
        permanent: bool,
        reason: NotificationFailureReason | None = None,
        connection_lost: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.connection_lost = connection_lost
        self.reason = reason or (
            NotificationFailureReason.PERMANENT_REJECTION
            if permanent
            else NotificationFailureReason.RETRIES_EXHAUSTED
        )


class MailSession(Protocol):
    async def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        """Deliver one message; raise ``DeliveryError`` when it was not accepted."""


class MailTransport(Protocol):
    def session(self) -> AbstractAsyncContextManager[MailSession]:
        """One connection (or outbox) reused for every message of a batch."""
