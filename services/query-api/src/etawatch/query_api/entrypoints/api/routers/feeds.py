"""The change feed the shop polls, and the scrape runs with each supplier's health."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from etawatch.query_api.entrypoints.api.deps import ReadApi
from etawatch.query_api.entrypoints.api.pages import json_response, page
from etawatch.query_api.entrypoints.api.schemas import (
    PROTECTED,
    ChangePage,
    RunOut,
    RunPage,
    SupplierHealthOut,
)

router = APIRouter(prefix="/v1", tags=["feeds"], responses=PROTECTED)

ADDED_TO_RUNS = {
    name: None
    for name, field in RunOut.model_fields.items()
    if not field.is_required() and field.default is None
}
"""Fields a run gained after its view was first built: a row stored before answers them as null
(``rebuild --projection runs`` writes them)."""

SupplierFilter = Annotated[str | None, Query(min_length=1, max_length=64)]
Limit = Annotated[int | None, Query(ge=1, le=500)]
Cursor = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{1,18}$", description="`next_cursor` of the previous answer."),
]


def _position(cursor: str | None) -> int | None:
    return None if cursor is None else int(cursor)


@router.get("/changes", response_model=ChangePage)
async def get_changes(
    api: ReadApi,
    after: Cursor = None,
    supplier: SupplierFilter = None,
    limit: Limit = None,
) -> Response:
    """Item changes in the order the ledger recorded them. Poll with ``after=next_cursor``."""
    start = _position(after) or 0
    rows = await api.queries.changes(start, limit or api.settings.default_page_size, supplier)
    return page([r[1] for r in rows], next_cursor=str(rows[-1][0] if rows else start))


@router.get("/runs", response_model=RunPage)
async def get_runs(
    api: ReadApi,
    supplier: SupplierFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Response:
    """Scrape runs, newest first, with their outcome and counts."""
    size = limit or api.settings.default_page_size
    rows = await api.queries.runs(_position(cursor), size, supplier)
    more = str(rows[-1][0]) if len(rows) == size else None
    return page([_complete_run(r[1]) for r in rows], next_cursor=more)


def _complete_run(doc: str) -> str:
    stored = orjson.loads(doc)
    if ADDED_TO_RUNS.keys() <= stored.keys():
        return doc
    return orjson.dumps({**ADDED_TO_RUNS, **stored}).decode()


@router.get("/runs/health", response_model=list[SupplierHealthOut])
async def get_health(api: ReadApi) -> Response:
    """Each supplier's scraping health: consecutive failures, last success, degraded or not."""
    return json_response("[" + ",".join(await api.queries.health()) + "]")
