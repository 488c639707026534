"""The FastAPI application factory: routers per resource, errors, metrics, lifespan."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI

from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.entrypoints.api import errors
from etawatch.query_api.entrypoints.api.metrics import Metrics, MetricsMiddleware
from etawatch.query_api.entrypoints.api.routers import feeds, health, items, orders
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

DESCRIPTION = """\
What the shop and its support ask instead of searching the supplier's portal: each order's lines
with the supplier's current availability and ETA, how they got there, and what the customer was
told. Every answer comes from views built from the ledger's event store; `as_of` answers are
rebuilt from the events themselves. Send an API key as `Authorization: Bearer <key>`.
"""


def create_app(
    api: QueryApi, *, run_projector: bool | None = None, freeze_start_up: bool = False
) -> FastAPI:
    """The HTTP app over a wired ``QueryApi``.

    ``run_projector`` (default: the ``project_in_background`` setting) keeps the views caught up
    from a background task; the embedded demo passes ``False`` and calls ``api.project_once()``.
    ``freeze_start_up``: for a process that serves this app (``_freeze_start_up``); not for
    one that starts many, as the tests do.
    """
    metrics = Metrics()
    background = api.settings.project_in_background if run_projector is None else run_projector

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await api.start()
        if freeze_start_up:
            _freeze_start_up()
        task = asyncio.create_task(_project_forever(api, metrics)) if background else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await api.stop()

    app = FastAPI(
        title="etawatch query API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.api = api
    app.state.metrics = metrics
    errors.install(app)
    for module in (health, orders, items, feeds):
        app.include_router(module.router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _freeze_start_up() -> None:
    """What start-up made (modules, the app, its settings and pools) lives as long as the
    process: frozen, the collector's full passes no longer walk it. Each pass used to pause
    every answer for tens of milliseconds under load, the p99 latency's largest part. Once per
    process: nothing more is frozen if something already was."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


async def _project_forever(api: QueryApi, metrics: Metrics) -> None:
    translator = api.source.translator
    counted = 0  # what this process's translator left out, as it projects
    while True:
        try:
            applied = await api.project_once()
            metrics.events.inc(applied)
            metrics.left_out.inc(translator.left_out - counted)
            counted = translator.left_out
            for name, lag in (await asyncio.to_thread(api.projector.lag)).items():
                metrics.lag.labels(name).set(lag)
        except Exception as exc:
            log.warning("projection step failed, will retry", error=repr(exc))
            applied = 0
        if applied == 0:
            await asyncio.sleep(api.settings.projection_interval_seconds)
