"""Adapters without a browser: the export's answers, and the data folder."""

import datetime as dt
import stat
import uuid
from pathlib import Path

import httpx
import pytest
from etawatch_testing.scraper import server_profile

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.data_folder import CookieJar, FileRunState
from etawatch.scraper.adapters.export_download import LoginNeeded, export_body
from etawatch.scraper.domain.failures import ScrapeFailure, TransientError

PROFILE = server_profile()


def answer(status: int, body: str = "", **headers: str) -> httpx.Response:
    return httpx.Response(status, text=body, headers=headers)


def test_a_csv_answer_is_the_export() -> None:
    body = export_body(answer(200, "a;b\r\n", **{"content-type": "text/csv"}), PROFILE)
    assert body == b"a;b\r\n"


def test_a_redirect_to_the_login_means_the_session_is_gone() -> None:
    with pytest.raises(LoginNeeded):
        export_body(answer(303, location="/login?next=%2Fexport.csv"), PROFILE)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_are_worth_another_try(status: int) -> None:
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        export_body(answer(status), PROFILE)


def test_a_missing_export_is_not_retried() -> None:
    with pytest.raises(ScrapeFailure, match="HTTP 404") as failure:
        export_body(answer(404), PROFILE)
    assert failure.value.reason is FailureReason.HTTP_ERROR


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ('<div id="maintenance">Údržba</div>', FailureReason.MAINTENANCE),
        ("<p>Something else entirely</p>", FailureReason.LAYOUT_CHANGED),
    ],
)
def test_an_html_page_instead_of_the_export(html: str, reason: FailureReason) -> None:
    page = answer(200, f"<html><body>{html}</body></html>", **{"content-type": "text/html"})
    with pytest.raises(ScrapeFailure) as failure:
        export_body(page, PROFILE)
    assert failure.value.reason is reason


def test_the_login_page_instead_of_the_export() -> None:
    page = answer(200, '<form id="login-form"></form>', **{"content-type": "text/html"})
    with pytest.raises(LoginNeeded):
        export_body(page, PROFILE)


def test_cookies_are_private_and_tied_to_the_portal(tmp_path: Path) -> None:
    jar = CookieJar(tmp_path, "simulated-server")
    jar.save("http://a.test/", [{"name": "b2b_session", "value": "abc"}])
    assert stat.S_IMODE(jar.path.stat().st_mode) == 0o600
    assert jar.load("http://a.test/") == [{"name": "b2b_session", "value": "abc"}]
    assert jar.load("http://b.test/") == []  # another portal's cookies are not sent
    jar.path.write_text("{not json", encoding="utf-8")
    assert jar.load("http://a.test/") == []  # a damaged file means logging in again


def test_the_last_complete_run_is_kept_per_profile(tmp_path: Path) -> None:
    state = FileRunState(tmp_path)
    assert state.last_complete_items("p") is None
    state.record_complete("p", 120, uuid.uuid4(), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert state.last_complete_items("p") == 120
    assert state.last_complete_items("other") is None
    (tmp_path / "state" / "p.json").write_text('{"last_complete_items": "lots"}', encoding="utf-8")
    assert state.last_complete_items("p") is None
