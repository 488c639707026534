"""The availability table: server-rendered or filled by a script from JSON, and its exports.

The CSV and the XLSX export hold the same header and cells; the XLSX, like a real supplier's,
has a merged title row above the header.
"""

import asyncio
import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from etawatch.demo.application.sessions import Session
from etawatch.demo.application.table import TablePage, export_rows, table_page
from etawatch.demo.bootstrap import Portal
from etawatch.demo.config import RenderMode
from etawatch.demo.entrypoints.deps import (
    PortalDep,
    current_session,
    error_page,
    maintenance,
    render,
    to_login,
)

router = APIRouter()
Page = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
EXPORT_CHUNK = 2000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _admit(request: Request, portal: Portal) -> Session | Response:
    """The maintenance page, the delay, then the session: what every table request goes through."""
    switches = portal.faults.current
    if switches.maintenance:
        portal.metrics.faults.labels("maintenance").inc()
        return maintenance(request)
    if switches.slow_seconds:
        portal.metrics.faults.labels("slow_seconds").inc()
        await asyncio.sleep(switches.slow_seconds)
    session = current_session(request, portal)
    return to_login(request) if session is None else session


def _serve(portal: Portal, session: Session, page: int) -> TablePage | Response | None:
    """Build one table page, applying the switches that act per page served."""
    if portal.faults.should_fail(page):
        portal.metrics.faults.labels("error_pages").inc()
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    table = table_page(portal.scenario, portal.faults.current, page, portal.config.page_size)
    if table is not None and portal.faults.page_served(session.id):
        portal.metrics.faults.labels("expire_session_after_pages").inc()
        portal.sessions.drop(session.id)
    return table


def pager(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last and those near ``page``; ``None`` is a gap."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and number - (out[-1] or 0) > 1:
            out.append(None)
        out.append(number)
    return out


@router.get("/availability")
async def availability(request: Request, portal: PortalDep, page: Page = 1) -> Response:
    admitted = await _admit(request, portal)
    if isinstance(admitted, Response):
        return admitted
    if portal.config.mode is RenderMode.SCRIPT:
        switches, size = portal.faults.current, portal.config.page_size
        table = table_page(portal.scenario, switches, page, size, with_rows=False)
        source: str | None = f"/api/availability?page={page}"
    else:
        served = _serve(portal, admitted, page)
        if isinstance(served, Response):
            return error_page(request, 500, "Chyba serveru", "Interní chyba serveru.")
        table, source = served, None
    if table is None:
        return error_page(request, 404, "Stránka neexistuje", f"Strana {page} neexistuje.")
    portal.metrics.pages.labels(f"html_{portal.config.mode.value}").inc()
    return render(
        request,
        "availability.html",
        table=table,
        pager=pager(table.page, table.pages),
        source=source,
        logged_in=True,
    )


@router.get("/api/availability")
async def availability_json(request: Request, portal: PortalDep, page: Page = 1) -> Response:
    admitted = await _admit(request, portal)
    if isinstance(admitted, Response):
        if admitted.status_code == 303:
            return JSONResponse({"detail": "Přihlaste se prosím."}, status_code=401)
        return admitted
    served = _serve(portal, admitted, page)
    if isinstance(served, Response):
        return served
    if served is None:
        return JSONResponse({"detail": f"Strana {page} neexistuje."}, status_code=404)
    portal.metrics.pages.labels("json").inc()
    return JSONResponse(served.as_json())


def _csv_chunks(rows: Iterator[list[str]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % EXPORT_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def _export(request: Request, portal: Portal, kind: str) -> Iterator[list[str]] | Response:
    """The export's header and rows once admitted (counted as ``kind``); else the answer."""
    admitted = await _admit(request, portal)
    if isinstance(admitted, Response):
        return admitted
    portal.metrics.pages.labels(kind).inc()
    return export_rows(portal.scenario, portal.faults.current)


def _attachment(suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="dostupnost.{suffix}"'}


@router.get("/export.csv")
async def export_csv(request: Request, portal: PortalDep) -> Response:
    rows = await _export(request, portal, "csv")
    if isinstance(rows, Response):
        return rows
    return StreamingResponse(
        _csv_chunks(rows), media_type="text/csv; charset=utf-8", headers=_attachment("csv")
    )


def xlsx_export(rows: list[list[str]], title: str) -> bytes:
    """A workbook of one sheet: ``title`` merged across the columns, then the header and rows.

    Every cell is the same text as in the CSV export (dates as the supplier writes them).
    """
    header = rows[0] if rows else []
    workbook = Workbook()
    sheet = workbook.active
    if sheet is None:  # a new workbook always has its first sheet
        raise AssertionError("openpyxl made a workbook without a sheet")
    sheet.title = "Dostupnost"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, len(header)))
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows[1:]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@router.get("/export.xlsx")
async def export_xlsx(request: Request, portal: PortalDep) -> Response:
    rows = await _export(request, portal, "xlsx")
    if isinstance(rows, Response):
        return rows
    title = f"Dostupnost zboží: {portal.config.supplier_name}"
    body = await asyncio.to_thread(xlsx_export, list(rows), title)  # rows read before the thread
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers=_attachment("xlsx"))
