"""The lock after five wrong logins, and sessions that expire when idle."""

import time

import httpx
import pytest
from etawatch_testing.portal import PortalFactory, login

pytestmark = pytest.mark.integration

LOCKED = '<div class="alert alert-error" id="login-error">Účet je dočasně zablokován.</div>'
INVALID = '<div class="alert alert-error" id="login-error">Neplatné přihlašovací údaje.</div>'


def test_five_wrong_attempts_lock_the_account(portal_factory: PortalFactory) -> None:
    portal = portal_factory()
    with httpx.Client(base_url=portal.url) as client:
        answers = [login(client, password=f"guess-{n}") for n in range(5)]
        assert all(a.status_code == 200 for a in answers)
        assert all(INVALID in a.text for a in answers[:4])
        assert LOCKED in answers[4].text
        right = login(client)
        assert right.status_code == 200 and LOCKED in right.text
        assert client.get("/availability").status_code == 303


def test_the_lock_lifts_after_a_while(portal_factory: PortalFactory) -> None:
    portal = portal_factory(lockout_seconds=0.3)
    with httpx.Client(base_url=portal.url) as client:
        for n in range(5):
            login(client, password=f"guess-{n}")
        assert LOCKED in login(client).text
        deadline = time.monotonic() + 5
        while (answer := login(client)).status_code != 303 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert answer.status_code == 303


def test_an_idle_session_expires_and_redirects_to_login(portal_factory: PortalFactory) -> None:
    portal = portal_factory(session_idle_seconds=0.5)
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        assert client.get("/availability").status_code == 200
        deadline = time.monotonic() + 5
        expired = None
        while time.monotonic() < deadline:
            time.sleep(0.6)
            expired = client.get("/availability?page=2")
            if expired.status_code == 303:
                break
        assert expired is not None and expired.status_code == 303
        assert expired.headers["location"] == "/login?next=%2Favailability%3Fpage%3D2"
