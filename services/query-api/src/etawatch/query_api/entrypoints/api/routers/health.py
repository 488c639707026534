"""Liveness, readiness (views, ledger, broker) and Prometheus metrics: no API key needed."""

import asyncio

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from etawatch.query_api.entrypoints.api.deps import Api
from etawatch.query_api.entrypoints.api.schemas import Readiness
from etawatch.runtime.health import failed

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers. Checks nothing else."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(api: Api) -> JSONResponse:
    """Ready when the views' database, the ledger's store and the broker answer."""
    checks: dict[str, str] = {}
    for name, check in api.checks.items():
        try:
            await asyncio.wait_for(check(), timeout=5)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = failed(exc)
    try:
        lag = await asyncio.wait_for(asyncio.to_thread(api.projector.lag), timeout=5)
    except Exception:
        lag = {}
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(ready=ready, checks=checks, lag=lag)
    return JSONResponse(
        body.model_dump(),
        status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
