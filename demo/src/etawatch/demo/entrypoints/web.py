"""The portal's web application."""

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from etawatch.demo.bootstrap import Portal
from etawatch.demo.entrypoints import admin_routes, login_routes, table_routes
from etawatch.demo.entrypoints.deps import template_environment


def create_app(portal: Portal) -> FastAPI:
    app = FastAPI(
        title=f"{portal.config.supplier_name} B2B (simulated)",
        docs_url=None,
        redoc_url=None,
    )
    app.state.portal = portal
    app.state.templates = template_environment()
    app.include_router(login_routes.router)
    app.include_router(table_routes.router)
    app.include_router(admin_routes.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(portal.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
