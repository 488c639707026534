"""Adapters without a browser: the export's answers, and the data folder."""

import datetime as dt
import stat
import uuid
from pathlib import Path

import httpx
import pytest
from etawatch_testing.scraper import server_profile
from pydantic import SecretStr

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.data_folder import CookieJar, FileRunState
from etawatch.scraper.adapters.portal_reader import SeleniumPortalReader, _LoginNeeded
from etawatch.scraper.domain.credentials import Credentials
from etawatch.scraper.domain.failures import ScrapeFailure, TransientError


def reader(tmp_path: Path) -> SeleniumPortalReader:
    def no_browser() -> None:
        raise AssertionError("no browser in a unit test")

    return SeleniumPortalReader(
        server_profile(),
        Credentials("shop", SecretStr("x" * 8)),
        base_url="http://portal.test",
        browser_factory=no_browser,  # type: ignore[arg-type]
        cookies=CookieJar(tmp_path, "p"),
    )


def answer(status: int, body: str = "", **headers: str) -> httpx.Response:
    return httpx.Response(status, text=body, headers=headers)


def test_a_csv_answer_is_the_export(tmp_path: Path) -> None:
    body = reader(tmp_path)._export_body(answer(200, "a;b\r\n", **{"content-type": "text/csv"}))
    assert body == b"a;b\r\n"


def test_a_redirect_to_the_login_means_the_session_is_gone(tmp_path: Path) -> None:
    with pytest.raises(_LoginNeeded):
        reader(tmp_path)._export_body(answer(303, location="/login?next=%2Fexport.csv"))


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_are_worth_another_try(tmp_path: Path, status: int) -> None:
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        reader(tmp_path)._export_body(answer(status))


def test_a_missing_export_is_not_retried(tmp_path: Path) -> None:
    with pytest.raises(ScrapeFailure, match="HTTP 404") as failure:
        reader(tmp_path)._export_body(answer(404))
    assert failure.value.reason is FailureReason.HTTP_ERROR


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ('<div id="maintenance">Údržba</div>', FailureReason.MAINTENANCE),
        ("<p>Something else entirely</p>", FailureReason.LAYOUT_CHANGED),
    ],
)
def test_an_html_page_instead_of_the_export(
    tmp_path: Path, html: str, reason: FailureReason
) -> None:
    page = answer(200, f"<html><body>{html}</body></html>", **{"content-type": "text/html"})
    with pytest.raises(ScrapeFailure) as failure:
        reader(tmp_path)._export_body(page)
    assert failure.value.reason is reason


def test_the_login_page_instead_of_the_export(tmp_path: Path) -> None:
    page = answer(200, '<form id="login-form"></form>', **{"content-type": "text/html"})
    with pytest.raises(_LoginNeeded):
        reader(tmp_path)._export_body(page)


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
