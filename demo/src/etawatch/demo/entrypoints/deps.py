"""What the routes share: the portal, the templates, the session cookie and common answers."""

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from etawatch.demo.application.sessions import Session
from etawatch.demo.bootstrap import Portal

SESSION_COOKIE = "b2b_session"
TEMPLATES = Path(__file__).parent / "templates"


def template_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
        trim_blocks=False,
    )


def get_portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(get_portal)]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    environment: Environment = request.app.state.templates
    portal = get_portal(request)
    html = environment.get_template(name).render(
        supplier_name=portal.config.supplier_name, **context
    )
    return HTMLResponse(html, status_code=status_code)


def current_session(request: Request, portal: Portal) -> Session | None:
    """The request's live, logged-in session (its idle time restarted), or ``None``."""
    session = portal.sessions.get(request.cookies.get(SESSION_COOKIE))
    return session if session is not None and session.authenticated else None


def set_session_cookie(response: Response, session: Session) -> None:
    response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="lax", path="/")


def to_login(request: Request) -> RedirectResponse:
    """303 to the login page, which brings the reader back here after logging in."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)


def maintenance(request: Request) -> HTMLResponse:
    """Real portals answer 200 with a notice."""
    return render(request, "maintenance.html")


def error_page(request: Request, status_code: int, heading: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code, heading=heading, message=message)


def safe_next(value: str | None) -> str:
    """Only a path on this site; anything else goes to the availability page."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/availability"
