"""Who may log in: credentials, the CSRF token, the lock and the ``refuse_login`` switch."""

import hmac
from enum import StrEnum

from etawatch.demo.application.sessions import LoginGuard
from etawatch.demo.domain.faults import FaultSwitches


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    INVALID = "invalid"
    LOCKED = "locked"
    BAD_CSRF = "bad_csrf"


MESSAGES: dict[LoginOutcome, str] = {
    LoginOutcome.INVALID: "Neplatné přihlašovací údaje.",
    LoginOutcome.LOCKED: "Účet je dočasně zablokován.",
    LoginOutcome.BAD_CSRF: "Platnost formuláře vypršela. Zkuste to prosím znovu.",
}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def attempt_login(
    guard: LoginGuard,
    switches: FaultSwitches,
    *,
    expected_user: str,
    expected_password: str,
    expected_csrf: str | None,
    username: str,
    password: str,
    csrf_token: str,
) -> LoginOutcome:
    """Decide a login attempt. A bad CSRF token or a refused login never counts toward the lock;
    a wrong password does, and the attempt that reaches the limit already answers ``LOCKED``."""
    if expected_csrf is None or not _same(csrf_token, expected_csrf):
        return LoginOutcome.BAD_CSRF
    if guard.locked(username):
        return LoginOutcome.LOCKED
    if _same(username, expected_user) and _same(password, expected_password):
        if switches.refuse_login:
            return LoginOutcome.INVALID
        guard.succeeded(username)
        return LoginOutcome.SUCCESS
    return LoginOutcome.LOCKED if guard.failed(username) else LoginOutcome.INVALID
