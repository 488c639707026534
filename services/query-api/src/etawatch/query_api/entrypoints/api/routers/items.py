"""Supplier items: their current state and their history."""

import asyncio
import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import JSONResponse, Response

from etawatch.query_api.application.as_of import item_as_of
from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.entrypoints.api.deps import ReadApi
from etawatch.query_api.entrypoints.api.pages import json_response
from etawatch.query_api.entrypoints.api.routers.orders import AsOf, _aware
from etawatch.query_api.entrypoints.api.schemas import (
    PROTECTED,
    ItemHistoryOut,
    ItemOut,
    Problem,
    Responses,
)

router = APIRouter(prefix="/v1/items", tags=["items"], responses=PROTECTED)

Supplier = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Sku = Annotated[str, Path(min_length=1, max_length=128)]
NOT_FOUND: Responses = {404: {"model": Problem, "description": "No such item."}}


async def _as_of(
    api: QueryApi, supplier: str, sku: str, moment: dt.datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    found = await asyncio.to_thread(item_as_of, api.history, supplier, sku, moment)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"item {supplier}/{sku} was unknown then")
    return found


@router.get("/{supplier}/{sku}", response_model=ItemOut, responses=NOT_FOUND)
async def get_item(api: ReadApi, supplier: Supplier, sku: Sku, as_of: AsOf = None) -> Response:
    """The item's current state at the supplier (or as known at ``as_of``)."""
    moment = _aware(as_of)
    if moment is not None:
        return JSONResponse((await _as_of(api, supplier, sku, moment))[0])
    text = await api.queries.item(supplier, sku)
    if text is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {supplier}/{sku}")
    return json_response(text)


@router.get(
    "/{supplier}/{sku}/history",
    response_model=ItemHistoryOut,
    responses=NOT_FOUND,
)
async def get_item_history(
    api: ReadApi, supplier: Supplier, sku: Sku, as_of: AsOf = None
) -> Response:
    """Every state the item was in, oldest first: its first sighting, then each change."""
    moment = _aware(as_of)
    if moment is not None:
        history = (await _as_of(api, supplier, sku, moment))[1]
        return JSONResponse({"supplier": supplier, "sku": sku, "entries": history})
    entries = await api.queries.item_history(supplier, sku)
    if not entries:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {supplier}/{sku}")
    head = json.dumps({"supplier": supplier, "sku": sku})[:-1]
    return json_response(head + ',"entries":[' + ",".join(entries) + "]}")
