"""Errors answer with a reason a person can act on; the server's own trouble is a 503, not a 500."""

from sqlite3 import Error as SqliteError

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import Error as PostgresError

from etawatch.runtime.log import get_logger

log = get_logger(__name__)

UNAVAILABLE = (PersistenceError, PostgresError, SqliteError, ConnectionError, TimeoutError, OSError)


def _summary(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "(request)"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": _summary(exc)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable", path=request.url.path, error=type(exc).__name__)
        return JSONResponse(
            {"detail": f"a backing service is unavailable ({type(exc).__name__}); try again"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, unavailable)
