"""The HTTP API's request and response bodies, as documented in the OpenAPI."""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from etawatch.contracts.messages import CloseReason, Locale, OrderLine, ShopOrderId
from etawatch.query_api.application.commands import nul_refusal

Responses = dict[int | str, dict[str, Any]]
"""Extra answers of a route, for the OpenAPI."""

OrderStatus = Literal["open", "fulfilled", "cancelled"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Out):
    detail: str = Field(description="What was wrong, for a person to act on.")


class EtaOut(Out):
    raw: str
    earliest: dt.date | None
    latest: dt.date | None
    precision: str


class LineChangeOut(Out):
    change_id: str = Field(description="Id of the ETAChanged message the ledger sent for it.")
    at: dt.datetime
    observed_at: dt.datetime
    change_kind: str
    shift_days: int | None
    previous_availability: str | None
    availability: str
    previous_eta: EtaOut | None
    eta: EtaOut


class LineOut(Out):
    line_no: int
    supplier: str
    sku: str
    name: str
    quantity: int
    availability: str | None = Field(description="The supplier's availability now (null: unseen).")
    availability_raw: str | None
    eta: EtaOut | None
    missing: bool
    eta_at_order: EtaOut | None = Field(description="The first known ETA since the order.")
    status_changed_at: dt.datetime | None
    delay_days: int | None = Field(description="Days the latest ETA date moved since the order.")
    history: list[LineChangeOut]


class NotificationOut(Out):
    notification_id: str
    outcome: Literal["sent", "failed"]
    channel: str
    subject: str | None
    at: dt.datetime
    reason: str | None
    change_ids: list[str]


class OrderOut(Out):
    shop_order_id: str
    order_id: uuid.UUID
    customer_id: str
    customer_name: str
    locale: str
    status: OrderStatus
    placed_at: dt.datetime
    closed_at: dt.datetime | None
    changed_at: dt.datetime
    max_delay_days: int | None
    lines: list[LineOut]
    notifications: list[NotificationOut]


class OrderSummaryOut(Out):
    shop_order_id: str
    customer_id: str
    status: OrderStatus
    placed_at: dt.datetime
    changed_at: dt.datetime
    max_delay_days: int | None


class OrderPage(Out):
    items: list[OrderSummaryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class ItemOut(Out):
    supplier: str
    sku: str
    name: str
    availability: str
    availability_raw: str
    eta: EtaOut
    missing: bool
    first_seen_at: dt.datetime
    last_changed_at: dt.datetime
    change_count: int


class ItemHistoryEntryOut(Out):
    at: dt.datetime
    kind: Literal["baseline", "changed", "missing", "returned"]
    availability: str
    availability_raw: str
    eta: EtaOut
    change_kind: str | None
    shift_days: int | None
    run_id: uuid.UUID | None


class ItemHistoryOut(Out):
    supplier: str
    sku: str
    entries: list[ItemHistoryEntryOut]


class ChangeOut(Out):
    cursor: str
    at: dt.datetime
    kind: Literal["changed", "missing", "returned"]
    supplier: str
    sku: str
    name: str
    previous_availability: str | None
    availability: str
    previous_eta: EtaOut | None
    eta: EtaOut
    change_kind: str | None
    shift_days: int | None


class ChangePage(Out):
    items: list[ChangeOut]
    next_cursor: str = Field(description="Pass as `after` to poll for what follows.")


class PartitionNotCompared(Out):
    partition: int
    reason: str


class RunOut(Out):
    run_id: uuid.UUID
    supplier: str
    outcome: Literal["in_progress", "complete", "failed"]
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    reason: str | None
    message: str | None
    items_seen: int | None = Field(
        default=None,
        description="Rows the scraper said it read; None when it reported none (a failed run) or "
        "the ledger recorded the run before it kept them.",
    )
    pages: int | None = Field(
        default=None, description="Pages the scraper read; None when not reported or not kept."
    )
    artifacts: list[str] | None = Field(
        default=None,
        description="Screenshot and page HTML the scraper saved when the run failed; None when "
        "not kept.",
    )
    unknown_availability: int | None = Field(
        default=None,
        description="Rows whose availability word the scraper did not know (recorded as unknown, "
        "the word kept); None when it reported none (a failed run) or the ledger recorded the run "
        "before it kept the scraper's data-quality counts.",
    )
    unreadable_eta: int | None = Field(
        default=None,
        description="Rows whose ETA text the scraper could not read (its raw text kept; a TBA or "
        "an empty cell is read fine); None when not reported or not kept.",
    )
    duplicate_skus: int | None = Field(
        default=None,
        description="Rows the scraper dropped because their SKU was read earlier in the run (the "
        "first is kept); None when not reported or not kept.",
    )
    observations: int = Field(description="Rows the ledger received and compared.")
    unseen: int
    partitions_compared: int
    partitions_not_compared: list[PartitionNotCompared]


class RunPage(Out):
    items: list[RunOut]
    next_cursor: str | None


class SupplierHealthOut(Out):
    supplier: str
    runs: int
    last_run_id: uuid.UUID | None
    last_outcome: str | None
    last_success_at: dt.datetime | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    degraded: bool


class PlaceOrderIn(BaseModel):
    """An order the shop registers. Sending the same ``shop_order_id`` again is one order."""

    model_config = ConfigDict(extra="forbid")

    shop_order_id: ShopOrderId
    placed_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    email: EmailStr
    customer_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    locale: Locale = "cs"
    lines: list[OrderLine] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _no_nul(self) -> "PlaceOrderIn":
        refused = nul_refusal(self.shop_order_id, self.customer_id, self.lines)
        if refused:
            raise ValueError(refused)
        return self


class CloseOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: CloseReason
    closed_at: AwareDatetime | None = Field(default=None, description="Default: now.")


class CommandAccepted(Out):
    shop_order_id: str
    order_id: uuid.UUID
    command_id: uuid.UUID = Field(description="The message id: the same for a repeated request.")
    status: Literal["accepted"] = "accepted"


class Readiness(Out):
    ready: bool
    checks: dict[str, str]
    lag: dict[str, int] = Field(description="Events each view is behind the ledger.")


PROTECTED: Responses = {
    401: {"model": Problem, "description": "No API key, or not a valid one."},
    403: {"model": Problem, "description": "The API key lacks the scope this needs."},
    422: {"model": Problem, "description": "The request is not valid; the reason says why."},
}
