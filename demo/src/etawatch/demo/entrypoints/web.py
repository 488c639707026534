"""The portal's web application."""

from fastapi import FastAPI

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

    return app
