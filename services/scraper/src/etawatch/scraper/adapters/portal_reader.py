"""The browser robot: one fresh Chromium per run reads the whole table of one portal.

It reuses the session cookies of the last run, logs in when the portal shows the login page
(at the start or in the middle of paging, at most ``session.max_logins`` times per run; a refused
login is never tried again in the same run, so a wrong password cannot lock the account), reads
each page in one go, follows the pager's next link, or downloads the CSV or XLSX export over HTTP
with the browser's cookies. Timeouts and HTTP 5xx are retried with backoff and jitter; everything
else ends the run with a ``ScrapeFailure`` that names the reason.
"""

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from etawatch.contracts.messages import FailureReason
from etawatch.runtime.log import get_logger
from etawatch.scraper.adapters.browser import BrowserFactory
from etawatch.scraper.adapters.csv_table import parse_csv_export
from etawatch.scraper.adapters.data_folder import CookieJar
from etawatch.scraper.adapters.export_download import LoginNeeded, download, export_body
from etawatch.scraper.adapters.pages import (
    LoginPage,
    PageKind,
    PageState,
    PortalPage,
    TablePage,
    maintenance_text,
)
from etawatch.scraper.adapters.politeness import RateLimiter, Sleep, with_retries
from etawatch.scraper.adapters.xlsx_table import parse_xlsx_export
from etawatch.scraper.domain.credentials import Credentials
from etawatch.scraper.domain.failures import ScrapeFailure, TransientError
from etawatch.scraper.domain.profile import ExportFormat, Mode, Profile
from etawatch.scraper.domain.table import PortalRead
from etawatch.scraper.domain.table import TablePage as ReadPage

log = get_logger(__name__)
# Selenium logs every WebDriver command with its arguments at DEBUG: that would include the
# password typed into the login form.
logging.getLogger("selenium.webdriver.remote.remote_connection").setLevel(logging.INFO)

MAX_PAGES = 10_000
DEADLINE_MARGIN_SECONDS = 0.5


def _same_page(a: str, b: str) -> bool:
    left, right = urlsplit(a), urlsplit(b)
    return (left.path, left.query) == (right.path, right.query)


class SeleniumPortalReader:
    """``PortalReader`` with Selenium 4 and headless Chromium."""

    def __init__(
        self,
        profile: Profile,
        credentials: Credentials,
        *,
        base_url: str,
        browser_factory: BrowserFactory,
        cookies: CookieJar,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.profile = profile
        self.credentials = credentials
        self.base_url = base_url.rstrip("/") + "/"
        self._browser_factory = browser_factory
        self._cookies = cookies
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._sleep = sleep
        self._limiter = RateLimiter(profile.politeness.min_interval_seconds, sleep=sleep)
        self._driver: WebDriver | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._last_http_body: bytes | None = None
        self._page_load_timeout = profile.timeouts.page_seconds
        self.logins = 0
        self.requests = 0

    # --- PortalReader ----------------------------------------------------------------------

    def read(self, deadline: float) -> PortalRead:
        try:
            driver = self._start()
            self._restore_cookies(driver)
            if self.profile.portal.mode is Mode.EXPORT:
                pages = self._read_export(driver, deadline)
            else:
                pages = self._read_pages(driver, deadline)
            self._save_cookies(driver)
        except WebDriverException as exc:
            raise self._browser_failure(exc, deadline) from exc
        return PortalRead(pages=tuple(pages), logins=self.logins, session_reused=self.logins == 0)

    def _browser_failure(self, exc: WebDriverException, deadline: float) -> ScrapeFailure:
        if self._closed:
            return ScrapeFailure(
                FailureReason.TIME_LIMIT, "the browser was stopped at the run's time limit"
            )
        if time.monotonic() >= deadline - DEADLINE_MARGIN_SECONDS:
            # page loads are cut to what is left of the run, so they time out at its end
            return ScrapeFailure(FailureReason.TIME_LIMIT, "the run reached its time limit")
        if isinstance(exc, TimeoutException):
            return ScrapeFailure(FailureReason.TIMEOUT, f"the portal did not answer: {exc.msg}")
        return ScrapeFailure(FailureReason.BROWSER_ERROR, f"the browser failed: {exc.msg or exc!r}")

    def save_artifacts(self, folder: Path) -> list[Path]:
        saved: list[Path] = []
        driver = self._driver
        export = self.profile.export
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if self._last_http_body is not None:
                xlsx = export is not None and export.format is ExportFormat.XLSX
                path = folder / f"export-response.{'xlsx' if xlsx else 'txt'}"
                path.write_bytes(self._last_http_body)
                saved.append(path)
            if driver is not None:
                shot = folder / "screenshot.png"
                if driver.save_screenshot(str(shot)):
                    saved.append(shot)
                page = folder / "page.html"
                page.write_text(driver.page_source, encoding="utf-8")
                saved.append(page)
        except (WebDriverException, OSError) as exc:
            log.warning("could not save all artifacts of the failed run", error=str(exc))
        return saved

    def close(self) -> None:
        with self._lock:
            driver, self._driver = self._driver, None
            self._closed = True
        if driver is not None:
            try:
                driver.quit()
            except Exception as exc:  # the browser may already be gone; nothing else to do
                log.warning("quitting the browser failed", error=repr(exc))

    # --- browser ---------------------------------------------------------------------------

    def _start(self) -> WebDriver:
        driver = self._browser_factory()
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._driver = driver
        if closed:
            driver.quit()
            raise ScrapeFailure(FailureReason.TIME_LIMIT, "the run was stopped before it began")
        return driver

    def _restore_cookies(self, driver: WebDriver) -> None:
        """Put the last run's session cookies into the fresh browser (DevTools, no page load)."""
        for cookie in self._cookies.load(self.base_url):
            params: dict[str, Any] = {
                "name": cookie["name"],
                "value": cookie["value"],
                "url": self.base_url,
                "path": cookie.get("path", "/"),
                "httpOnly": bool(cookie.get("httpOnly", False)),
                "secure": bool(cookie.get("secure", False)),
            }
            if cookie.get("sameSite") in ("Strict", "Lax", "None"):
                params["sameSite"] = cookie["sameSite"]
            if isinstance(cookie.get("expiry"), int):
                params["expires"] = cookie["expiry"]
            driver.execute_cdp_cmd("Network.setCookie", params)

    def _save_cookies(self, driver: WebDriver) -> None:
        self._cookies.save(self.base_url, driver.get_cookies())

    # --- navigation ------------------------------------------------------------------------

    def _remaining(self, deadline: float) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ScrapeFailure(FailureReason.TIME_LIMIT, "the run reached its time limit")
        return remaining

    def _bounded_timeout(self, driver: WebDriver, deadline: float) -> tuple[float, bool]:
        """The page timeout, cut down to what is left of the run (and whether it was cut)."""
        page = self.profile.timeouts.page_seconds
        remaining = self._remaining(deadline)
        timeout, cut = (remaining, True) if remaining < page else (page, False)
        if abs(timeout - self._page_load_timeout) > 0.01:
            driver.set_page_load_timeout(timeout)
            self._page_load_timeout = timeout
        return timeout, cut

    def _get(self, driver: WebDriver, url: str, deadline: float) -> PageState:
        """Load ``url`` and wait until it is a page the profile knows; one attempt."""
        self._limiter.wait()
        timeout, cut = self._bounded_timeout(driver, deadline)
        self.requests += 1
        try:
            driver.get(url)
            state = PortalPage(driver, self.profile).wait_until_known(timeout)
        except (TimeoutException, TransientError) as exc:
            if cut or time.monotonic() >= deadline:
                raise ScrapeFailure(
                    FailureReason.TIME_LIMIT, f"the run reached its time limit loading {url}"
                ) from exc
            if isinstance(exc, TransientError):
                raise
            raise TransientError(
                FailureReason.TIMEOUT, f"{url} did not load in {timeout:.0f} s"
            ) from exc
        if state.kind is PageKind.HTTP_ERROR:
            message = f"{state.path} answered HTTP {state.status}"
            if state.status >= 500 or state.status == 429:
                raise TransientError(FailureReason.HTTP_ERROR, message)
            raise ScrapeFailure(FailureReason.HTTP_ERROR, message)
        if state.kind is PageKind.TABLE_FAILED:
            raise TransientError(
                FailureReason.HTTP_ERROR, f"the table at {state.path} could not load its rows"
            )
        return state

    def _open(self, driver: WebDriver, url: str, deadline: float) -> PageState:
        """Open a table page, logging in first when the portal asks for it."""
        while True:
            state = with_retries(
                lambda: self._get(driver, url, deadline),
                self.profile.retries,
                deadline=deadline,
                sleep=self._sleep,
            )
            if state.kind is PageKind.LOGIN:
                state = self._log_in(driver, deadline)
                if state.kind is PageKind.TABLE and _same_page(state.url, url):
                    return state  # the portal sent us back where we were going
                continue
            if state.kind is PageKind.MAINTENANCE:
                raise ScrapeFailure(
                    FailureReason.MAINTENANCE, maintenance_text(driver, self.profile)
                )
            return state

    def _log_in(self, driver: WebDriver, deadline: float) -> PageState:
        limit = self.profile.session.max_logins
        if self.logins >= limit:
            raise ScrapeFailure(
                FailureReason.SESSION_LOST,
                f"the portal asked for a login again after {self.logins} login(s) in this run "
                f"(at most {limit})",
            )
        self.logins += 1
        self._limiter.wait()
        timeout, cut = self._bounded_timeout(driver, deadline)
        log.info("logging in to the portal", login=self.logins, user=self.credentials.username)
        try:
            state = LoginPage(driver, self.profile).log_in(self.credentials, timeout)
        except (TransientError, TimeoutException) as exc:
            # never retried blindly: every attempt counts toward the portal's lock
            if cut or time.monotonic() >= deadline - DEADLINE_MARGIN_SECONDS:
                raise ScrapeFailure(
                    FailureReason.TIME_LIMIT, "the run reached its time limit while logging in"
                ) from exc
            if isinstance(exc, TransientError):
                raise ScrapeFailure(exc.reason, exc.message) from exc
            raise ScrapeFailure(FailureReason.TIMEOUT, "the login did not answer") from exc
        self._save_cookies(driver)
        return state

    # --- table pages -----------------------------------------------------------------------

    def _read_pages(self, driver: WebDriver, deadline: float) -> list[ReadPage]:
        section = self.profile.table
        url = urljoin(self.base_url, section.start_path.lstrip("/"))
        visited = {url}
        pages: list[ReadPage] = []
        while True:
            state = self._open(driver, url, deadline)
            parsed = TablePage(driver, self.profile).read(len(pages) + 1, self._clock())
            pages.append(parsed.page)
            if parsed.next_href is None:
                return pages
            url = urljoin(state.url, parsed.next_href)
            if url in visited or len(pages) >= MAX_PAGES:
                raise ScrapeFailure(
                    FailureReason.LAYOUT_CHANGED,
                    f"the pager leads back to {url} after {len(pages)} pages",
                )
            visited.add(url)

    # --- CSV or XLSX export ----------------------------------------------------------------

    def _read_export(self, driver: WebDriver, deadline: float) -> list[ReadPage]:
        export = self.profile.export
        if export is None:  # refused by the profile's validation
            raise AssertionError("export mode without an [export] section")
        start = urljoin(self.base_url, self.profile.table.start_path.lstrip("/"))
        self._open(driver, start, deadline)
        first = TablePage(driver, self.profile).read(1, self._clock())
        url = urljoin(self.base_url, export.path.lstrip("/"))
        for _ in range(self.profile.session.max_logins):
            try:
                body = with_retries(
                    lambda: self._fetch(driver, url, deadline),
                    self.profile.retries,
                    deadline=deadline,
                    sleep=self._sleep,
                )
            except LoginNeeded:
                self._open(driver, start, deadline)  # logs in again (bounded)
                continue
            total = first.page.declared_total
            if export.format is ExportFormat.XLSX:
                columns = self.profile.columns
                return [parse_xlsx_export(body, export, columns, self._clock(), total)]
            return [parse_csv_export(body, export, self._clock(), total)]
        raise ScrapeFailure(
            FailureReason.SESSION_LOST, "the export kept answering with the login page"
        )

    def _fetch(self, driver: WebDriver, url: str, deadline: float) -> bytes:
        """Download the export with the browser's cookies and user agent; one attempt."""
        self._limiter.wait()
        timeout = min(self.profile.timeouts.page_seconds, self._remaining(deadline))
        cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
        headers = {"User-Agent": str(driver.execute_script("return navigator.userAgent"))}
        self.requests += 1
        response = download(url, cookies=cookies, headers=headers, timeout=timeout)
        self._last_http_body = response.content
        return export_body(response, self.profile)
