"""The change feed the shop polls, and the scrape runs with each supplier's health."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from etawatch.query_api.entrypoints.api.deps import Api, CanRead
from etawatch.query_api.entrypoints.api.pages import json_response, page
from etawatch.query_api.entrypoints.api.schemas import (
    ChangePage,
    Problem,
    Responses,
    RunPage,
    SupplierHealthOut,
)

router = APIRouter(prefix="/v1", tags=["feeds"])

SupplierFilter = Annotated[str | None, Query(min_length=1, max_length=64)]
Limit = Annotated[int | None, Query(ge=1, le=500)]
BAD_CURSOR: Responses = {
    400: {"model": Problem, "description": "A cursor this API did not give out."}
}


def _position(cursor: str | None, name: str) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"{name} is not a cursor this API gave out"
        )
    return int(cursor)


@router.get("/changes", response_model=ChangePage, responses=BAD_CURSOR, dependencies=[CanRead])
async def get_changes(
    api: Api,
    after: Annotated[
        str | None, Query(max_length=32, description="`next_cursor` of the last poll.")
    ] = None,
    supplier: SupplierFilter = None,
    limit: Limit = None,
) -> Response:
    """Item changes in the order the ledger recorded them. Poll with ``after=next_cursor``."""
    start = _position(after, "after") or 0
    rows = await api.queries.changes(start, limit or api.settings.default_page_size, supplier)
    return page([r[1] for r in rows], next_cursor=str(rows[-1][0] if rows else start))


@router.get("/runs", response_model=RunPage, responses=BAD_CURSOR, dependencies=[CanRead])
async def get_runs(
    api: Api,
    supplier: SupplierFilter = None,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = None,
) -> Response:
    """Scrape runs, newest first, with their outcome and counts."""
    size = limit or api.settings.default_page_size
    rows = await api.queries.runs(_position(cursor, "cursor"), size, supplier)
    more = str(rows[-1][0]) if len(rows) == size else None
    return page([r[1] for r in rows], next_cursor=more)


@router.get("/runs/health", response_model=list[SupplierHealthOut], dependencies=[CanRead])
async def get_health(api: Api) -> Response:
    """Each supplier's scraping health: consecutive failures, last success, degraded or not."""
    return json_response("[" + ",".join(await api.queries.health()) + "]")
