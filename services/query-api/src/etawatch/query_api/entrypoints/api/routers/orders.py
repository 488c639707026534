"""Orders: what the shop's support asks, and the shop's order commands."""

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import Response

from etawatch.contracts.messages import OrderClosed, OrderPlaced
from etawatch.query_api.adapters.view_queries import OrderFilter
from etawatch.query_api.application.as_of import order_as_of
from etawatch.query_api.application.commands import Accepted, close_order, place_order
from etawatch.query_api.entrypoints.api.deps import ReadApi, WriteApi
from etawatch.query_api.entrypoints.api.pages import (
    json_response,
    page,
)
from etawatch.query_api.entrypoints.api.schemas import (
    PROTECTED,
    CloseOrderIn,
    CommandAccepted,
    OrderOut,
    OrderPage,
    OrderStatus,
    PlaceOrderIn,
    Problem,
    Responses,
)
from etawatch.runtime.log import get_logger

log = get_logger(__name__)
router = APIRouter(prefix="/v1/orders", tags=["orders"], responses=PROTECTED)

OrderId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"\S",  # not only blanks: the contracts strip them
        description="The shop's order id.",
    ),
]
AsOf = Annotated[
    dt.datetime | None,
    Query(description="Answer as the ledger knew it at this moment (with a time zone)."),
]
NOT_FOUND: Responses = {404: {"model": Problem, "description": "No such order."}}


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "as_of needs a time zone")
    return moment


@router.get("/{shop_order_id}", response_model=OrderOut, responses=NOT_FOUND)
async def get_order(api: ReadApi, shop_order_id: OrderId, as_of: AsOf = None) -> Response:
    """The order, each line's supplier status now, its history, and the notifications sent."""
    moment = _aware(as_of)
    if moment is not None:
        doc = await asyncio.to_thread(order_as_of, api.history, shop_order_id, moment)
        if doc is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"order {shop_order_id!r} was unknown then"
            )
        return json_response(doc)
    text = await api.queries.order(shop_order_id)
    if text is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {shop_order_id!r}")
    return json_response(text)


@router.get("", response_model=OrderPage)
async def list_orders(
    api: ReadApi,
    *,
    customer_id: Annotated[str | None, Query(max_length=128)] = None,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    delayed_more_than_days: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    changed_since: AsOf = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=128,
            pattern=r"^[^\x00]*$",  # an order's id: no NUL (see ``storable``)
            description="`next_cursor` of the previous page.",
        ),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> Response:
    """Orders by shop order id, filtered; follow ``next_cursor`` for the next page."""
    size = limit or api.settings.default_page_size
    where = OrderFilter(
        customer_id=customer_id,
        status=status_,
        delayed_more_than_days=delayed_more_than_days,
        changed_since=_aware(changed_since),
        after=cursor,
    )
    rows = await api.queries.orders(where, size)
    keys = ("shop_order_id", "customer_id", "status", "placed_at", "changed_at", "max_delay_days")
    docs = [json.dumps(dict(zip(keys, row, strict=True))) for row in rows]
    more = rows[-1][0] if len(rows) == size else None
    return page(docs, next_cursor=more)


async def _published(sending: Awaitable[Accepted]) -> CommandAccepted:
    try:
        accepted = await sending
    except Exception as exc:
        log.warning("order command not published", error=type(exc).__name__)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the broker did not take the command; try again"
        ) from exc
    return CommandAccepted(
        shop_order_id=accepted.shop_order_id,
        order_id=accepted.order_id,
        command_id=accepted.command_id,
    )


UNAVAILABLE: Responses = {
    503: {"model": Problem, "description": "The broker did not take the command."}
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommandAccepted,
    responses=UNAVAILABLE,
)
async def post_order(api: WriteApi, body: PlaceOrderIn) -> CommandAccepted:
    """Register an order: published as ``OrderPlaced`` for the ledger. Idempotent on its id."""
    now = dt.datetime.now(dt.UTC)
    message = OrderPlaced(
        shop_order_id=body.shop_order_id,
        placed_at=body.placed_at or now,
        customer_id=body.customer_id,
        email=body.email,
        customer_name=body.customer_name,
        locale=body.locale,
        lines=tuple(body.lines),
    )
    return await _published(place_order(api.bus, message, now))


@router.post(
    "/{shop_order_id}/close",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommandAccepted,
    responses=UNAVAILABLE,
)
async def post_close(api: WriteApi, shop_order_id: OrderId, body: CloseOrderIn) -> CommandAccepted:
    """Close an order (fulfilled or cancelled): published as ``OrderClosed``. Idempotent."""
    now = dt.datetime.now(dt.UTC)
    message = OrderClosed(
        shop_order_id=shop_order_id, closed_at=body.closed_at or now, reason=body.reason
    )
    return await _published(close_order(api.bus, message, now))
