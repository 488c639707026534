"""``/login`` and ``/logout``: a form with a CSRF token, a session cookie, errors on the page."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from etawatch.demo.application.login import MESSAGES, LoginOutcome, attempt_login
from etawatch.demo.application.sessions import Session
from etawatch.demo.bootstrap import Portal
from etawatch.demo.entrypoints.deps import (
    SESSION_COOKIE,
    PortalDep,
    render,
    safe_next,
    set_session_cookie,
)
from etawatch.runtime.log import get_logger

router = APIRouter()
log = get_logger(__name__)


def _login_page(
    request: Request,
    portal: Portal,
    session: Session,
    *,
    next_url: str | None,
    error: str | None = None,
    username: str = "",
) -> HTMLResponse:
    changed = portal.faults.current.login_form_changed
    response = render(
        request,
        "login.html",
        form_id="signin-form" if changed else "login-form",
        user_field="login" if changed else "username",
        password_field="heslo" if changed else "password",
        csrf_token=session.csrf_token,
        next=next_url or "",
        error=error,
        username=username,
        logged_in=False,
    )
    set_session_cookie(response, session)
    return response


def _session(request: Request, portal: Portal) -> Session:
    return portal.sessions.get(request.cookies.get(SESSION_COOKIE)) or portal.sessions.new()


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, portal: PortalDep, next_url: Annotated[str | None, Query(alias="next")] = None
) -> HTMLResponse:
    return _login_page(request, portal, _session(request, portal), next_url=next_url)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, portal: PortalDep) -> Response:
    form = await request.form()
    changed = portal.faults.current.login_form_changed

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    username = field("login" if changed else "username")
    next_url = field("next") or request.query_params.get("next")
    session = portal.sessions.get(request.cookies.get(SESSION_COOKIE))
    outcome = attempt_login(
        portal.guard,
        portal.faults.current,
        expected_user=portal.config.username,
        expected_password=portal.config.password.get_secret_value(),
        expected_csrf=None if session is None else session.csrf_token,
        username=username,
        password=field("heslo" if changed else "password"),
        csrf_token=field("csrf_token"),
    )
    portal.metrics.logins.labels(outcome.value).inc()
    if portal.faults.current.refuse_login and outcome is LoginOutcome.INVALID:
        portal.metrics.faults.labels("refuse_login").inc()
    log.info("portal.login", outcome=outcome.value, username=username)
    if outcome is LoginOutcome.SUCCESS:
        portal.sessions.drop(None if session is None else session.id)
        fresh = portal.sessions.new(user=username)
        response = RedirectResponse(safe_next(next_url), status_code=303)
        set_session_cookie(response, fresh)
        return response
    return _login_page(
        request,
        portal,
        session or portal.sessions.new(),
        next_url=next_url,
        error=MESSAGES[outcome],
        username=username,
    )


@router.get("/logout")
async def logout(request: Request, portal: PortalDep) -> RedirectResponse:
    portal.sessions.drop(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/availability", status_code=303)
