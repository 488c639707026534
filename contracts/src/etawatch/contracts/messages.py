"""Every message etawatch sends, as frozen pydantic models.

Change a model only in a backward compatible way (add optional fields, widen types), or add a
new version: ``tests/contract`` compares each model with every committed schema of its type.
"""

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, EmailStr, Field, StringConstraints

from etawatch.contracts.availability import Availability
from etawatch.contracts.base import ContractModel, Message
from etawatch.contracts.eta import ETA

Supplier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]
"""A supplier's slug: lower case letters, digits, ``-`` and ``_``."""
Sku = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
ShopOrderId = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(?:[_-][A-Za-z]{2})?$")]
Text = Annotated[str, StringConstraints(max_length=1000)]


# --- scraper ---------------------------------------------------------------------------------


class ItemAvailabilityObserved(Message):
    """One row of the supplier's table, as read in one scrape run."""

    TYPE = "etawatch.item.availability-observed"

    run_id: uuid.UUID
    supplier: Supplier
    sku: Sku
    name: Text
    manufacturer: Text | None = None
    availability: Availability
    availability_raw: Text
    eta: ETA
    quantity_allocated: int | None = Field(default=None, ge=0)
    observed_at: AwareDatetime
    position: int = Field(ge=0, description="Row number within the run, from 0.")


class ScrapeRunStarted(Message):
    TYPE = "etawatch.scrape.run-started"

    run_id: uuid.UUID
    supplier: Supplier
    profile: str
    started_at: AwareDatetime


class ScrapeRunCompleted(Message):
    """The run read the table to its end. ``complete`` is false when it read less than it should."""

    TYPE = "etawatch.scrape.run-completed"

    run_id: uuid.UUID
    supplier: Supplier
    started_at: AwareDatetime
    finished_at: AwareDatetime
    items_seen: int = Field(ge=0)
    pages: int = Field(ge=0)
    complete: bool
    incomplete_reason: Text | None = None
    unknown_availability: int = Field(default=0, ge=0)
    unreadable_eta: int = Field(default=0, ge=0)
    duplicate_skus: int = Field(default=0, ge=0)
    previous_items_seen: int | None = Field(default=None, ge=0)


class FailureReason(StrEnum):
    LOGIN_FAILED = "login_failed"
    LOGIN_FORM_CHANGED = "login_form_changed"
    ACCOUNT_LOCKED = "account_locked"
    MAINTENANCE = "maintenance"
    LAYOUT_CHANGED = "layout_changed"
    TRUNCATED = "truncated"
    SESSION_LOST = "session_lost"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    BROWSER_ERROR = "browser_error"
    TIME_LIMIT = "time_limit"
    PUBLISH_FAILED = "publish_failed"
    INTERNAL_ERROR = "internal_error"


class ScrapeRunFailed(Message):
    TYPE = "etawatch.scrape.run-failed"

    run_id: uuid.UUID
    supplier: Supplier
    started_at: AwareDatetime
    failed_at: AwareDatetime
    reason: FailureReason
    message: Text
    artifacts: tuple[str, ...] = Field(
        default=(), description="Screenshot and page HTML saved when the run failed."
    )


# --- orders (commands from the shop) ---------------------------------------------------------


class OrderLine(ContractModel):
    supplier: Supplier
    sku: Sku
    name: Text
    quantity: int = Field(ge=1, le=100_000)


class OrderPlaced(Message):
    TYPE = "etawatch.order.placed"

    shop_order_id: ShopOrderId
    placed_at: AwareDatetime
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    email: EmailStr
    customer_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    locale: Locale = "cs"
    lines: tuple[OrderLine, ...] = Field(min_length=1, max_length=500)


class CloseReason(StrEnum):
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class OrderClosed(Message):
    TYPE = "etawatch.order.closed"

    shop_order_id: ShopOrderId
    closed_at: AwareDatetime
    reason: CloseReason


# --- ledger ----------------------------------------------------------------------------------


class ChangeKind(StrEnum):
    """What a customer would call the change, most important first."""

    DISCONTINUED = "discontinued"
    SOLD_OUT = "sold_out"
    IN_STOCK = "in_stock"
    ETA_LATER = "eta_later"
    ETA_EARLIER = "eta_earlier"
    ETA_KNOWN = "eta_known"
    ETA_UNKNOWN = "eta_unknown"
    AVAILABILITY_CHANGED = "availability_changed"


class ETAChanged(Message):
    """A change of one supplier item, as it touches one line of one open order.

    ``previous_*`` is empty only in a malformed message: the ledger never sends a first
    sighting as a change, and the notifier refuses one without a previous value.
    """

    TYPE = "etawatch.order.eta-changed"

    shop_order_id: ShopOrderId
    customer_id: str
    email: EmailStr
    customer_name: str
    locale: Locale
    supplier: Supplier
    sku: Sku
    item_name: Text
    quantity: int = Field(ge=1)
    previous_availability: Availability | None
    new_availability: Availability
    previous_eta: ETA | None
    new_eta: ETA
    change_kind: ChangeKind
    shift_days: int | None = Field(
        default=None, description="Days the latest date of the ETA window moved (later > 0)."
    )
    observation_id: uuid.UUID
    run_id: uuid.UUID
    observed_at: AwareDatetime


class ItemMissing(Message):
    TYPE = "etawatch.item.missing"

    supplier: Supplier
    sku: Sku
    item_name: Text
    last_seen_at: AwareDatetime
    run_id: uuid.UUID
    complete_runs_without: int = Field(ge=1)


class ItemReturned(Message):
    TYPE = "etawatch.item.returned"

    supplier: Supplier
    sku: Sku
    item_name: Text
    run_id: uuid.UUID
    returned_at: AwareDatetime
    availability: Availability
    eta: ETA


class ScrapeHealthDegraded(Message):
    TYPE = "etawatch.scrape.health-degraded"

    supplier: Supplier
    consecutive_failures: int = Field(ge=1)
    last_reason: FailureReason
    last_message: Text
    last_run_id: uuid.UUID
    failing_since: AwareDatetime


# --- notifier --------------------------------------------------------------------------------


class CustomerNotified(Message):
    TYPE = "etawatch.order.customer-notified"

    notification_id: uuid.UUID
    shop_order_id: ShopOrderId
    customer_id: str
    email: EmailStr
    locale: Locale
    subject: Text
    message_id: Text
    channel: str = "email"
    sent_at: AwareDatetime
    change_ids: tuple[str, ...] = Field(min_length=1, description="Ids of the ETAChanged covered.")


class NotificationFailureReason(StrEnum):
    PERMANENT_REJECTION = "permanent_rejection"
    INVALID_ADDRESS = "invalid_address"
    RETRIES_EXHAUSTED = "retries_exhausted"


class NotificationFailed(Message):
    TYPE = "etawatch.order.notification-failed"

    notification_id: uuid.UUID
    shop_order_id: ShopOrderId
    customer_id: str
    reason: NotificationFailureReason
    detail: Text
    failed_at: AwareDatetime
    change_ids: tuple[str, ...] = Field(min_length=1)


ALL_MESSAGES: tuple[type[Message], ...] = (
    ItemAvailabilityObserved,
    ScrapeRunStarted,
    ScrapeRunCompleted,
    ScrapeRunFailed,
    OrderPlaced,
    OrderClosed,
    ETAChanged,
    ItemMissing,
    ItemReturned,
    ScrapeHealthDegraded,
    CustomerNotified,
    NotificationFailed,
)
