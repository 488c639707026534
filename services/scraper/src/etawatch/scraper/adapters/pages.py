"""Page objects of a supplier portal, driven by the profile's selectors.

Every page object first finds out which page the browser is really on (one script call: the
login page can appear anywhere once the session expired, a maintenance page can stand in for the
table). Waiting is always explicit (``WebDriverWait`` on a condition), never a sleep.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from selenium.common.exceptions import (
    InvalidSessionIdException,
    NoSuchWindowException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.html_table import ParsedPage, parse_table_page
from etawatch.scraper.domain.credentials import Credentials
from etawatch.scraper.domain.failures import ScrapeFailure, TransientError
from etawatch.scraper.domain.profile import Profile, normalise_text

POLL_SECONDS = 0.05


_REPLACED = "does not belong to the document"


# Set on the login page's document before the form is submitted; a document without it is the
# portal's answer. Element staleness is not used: while the old document is being torn down,
# ChromeDriver may answer a query on one of its elements with an "unknown error" instead of a
# stale-element error.
_MARK_DOCUMENT = "window.__etawatchSubmitted = true;"
_IS_MARKED = "return window.__etawatchSubmitted === true;"
_FATAL = (InvalidSessionIdException, NoSuchWindowException)


def _document_replaced(driver: WebDriver) -> bool:
    """True once the browser shows a new document; a query that fails mid-navigation is a no."""
    try:
        return driver.execute_script(_IS_MARKED) is not True
    except _FATAL:
        raise
    except WebDriverException:
        return False


class PageKind(StrEnum):
    TABLE = "table"
    TABLE_FAILED = "table_failed"
    LOGIN = "login"
    MAINTENANCE = "maintenance"
    HTTP_ERROR = "http_error"
    LOADING = "loading"
    UNKNOWN = "unknown"


SETTLED = frozenset(
    {
        PageKind.TABLE,
        PageKind.TABLE_FAILED,
        PageKind.LOGIN,
        PageKind.MAINTENANCE,
        PageKind.HTTP_ERROR,
    }
)

_CLASSIFY = """
const s = arguments[0];
const q = (sel) => !!sel && document.querySelector(sel) !== null;
const nav = performance.getEntriesByType('navigation')[0];
const st = {
  status: nav && nav.responseStatus ? nav.responseStatus : 0,
  path: location.pathname, search: location.search, url: location.href,
  ready: document.readyState, table: q(s.table), kind: 'unknown'
};
if (document.readyState === 'loading') { st.kind = 'loading'; return st; }
if (q(s.maintenance)) st.kind = 'maintenance';
else if (q(s.login_form) || new RegExp(s.login_url).test(location.pathname)
         || (s.login_title && document.title.indexOf(s.login_title) >= 0)) st.kind = 'login';
else if (st.status >= 400) st.kind = 'http_error';
else if (q(s.failed)) st.kind = 'table_failed';
else if (q(s.ready)) st.kind = 'table';
return st;
"""


@dataclass(frozen=True)
class PageState:
    kind: PageKind
    status: int
    path: str
    search: str
    url: str
    ready_state: str
    has_table: bool

    @classmethod
    def from_script(cls, raw: dict[str, Any]) -> "PageState":
        return cls(
            kind=PageKind(raw.get("kind", "unknown")),
            status=int(raw.get("status") or 0),
            path=str(raw.get("path", "")),
            search=str(raw.get("search", "")),
            url=str(raw.get("url", "")),
            ready_state=str(raw.get("ready", "")),
            has_table=bool(raw.get("table")),
        )


class PortalPage:
    """Any page of the portal: says which page it is, and waits until it is one it knows."""

    def __init__(self, driver: WebDriver, profile: Profile) -> None:
        self.driver = driver
        self.profile = profile
        self._selectors = {
            "maintenance": profile.pages.maintenance,
            "login_form": profile.login.form,
            "login_url": profile.login.url_pattern,
            "login_title": profile.login.title_contains,
            "table": profile.table.table,
            "ready": profile.table.ready,
            "failed": profile.table.failed,
        }

    def state(self) -> PageState:
        return PageState.from_script(self.driver.execute_script(_CLASSIFY, self._selectors))

    def wait_until_known(self, timeout: float) -> PageState:
        """Wait until the page is the table, the login, maintenance or an HTTP error page.

        A page that loaded but is none of those means the layout changed; a table whose rows
        never arrived, or a page that never finished loading, is a timeout worth retrying.
        """
        seen: list[PageState] = []

        def settled(_driver: WebDriver) -> PageState | Literal[False]:
            current = self.state()
            seen.append(current)
            return current if current.kind in SETTLED else False

        try:
            found: PageState = WebDriverWait(
                self.driver, max(timeout, POLL_SECONDS), poll_frequency=POLL_SECONDS
            ).until(settled)
        except TimeoutException:
            last = seen[-1] if seen else None
            if last is not None and last.ready_state == "complete" and not last.has_table:
                raise ScrapeFailure(
                    FailureReason.LAYOUT_CHANGED,
                    f"the page at {last.path} is neither the table, the login page nor "
                    "the maintenance page",
                ) from None
            where = last.path if last else "the page"
            raise TransientError(
                FailureReason.TIMEOUT, f"{where} was not ready after {timeout:.0f} s"
            ) from None
        return found


class LoginPage(PortalPage):
    """The login form: fill it in once, submit, and tell what the portal answered."""

    def _one(self, selector: str) -> WebElement:
        found = self.driver.find_elements(By.CSS_SELECTOR, selector)
        if not found:
            raise ScrapeFailure(
                FailureReason.LOGIN_FORM_CHANGED,
                f"the login page has no {selector!r}: the login form changed",
            )
        return found[0]

    def log_in(self, credentials: Credentials, timeout: float) -> PageState:
        """Submit the form once; return the page the portal answered with after a success."""
        login = self.profile.login
        self._one(login.form)
        username = self._one(login.username_field)
        password = self._one(login.password_field)
        submit = self._one(login.submit)
        username.clear()
        username.send_keys(credentials.username)
        password.clear()
        password.send_keys(credentials.password.get_secret_value())
        self.driver.execute_script(_MARK_DOCUMENT)
        submit.click()
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=POLL_SECONDS).until(
                _document_replaced
            )
        except TimeoutException:
            raise TransientError(
                FailureReason.TIMEOUT, f"the portal did not answer the login in {timeout:.0f} s"
            ) from None
        answer = self.wait_until_known(timeout)
        if answer.kind is PageKind.LOGIN:
            self._refused()
        if answer.kind is PageKind.MAINTENANCE:
            raise ScrapeFailure(FailureReason.MAINTENANCE, self._maintenance_text())
        return answer

    def _refused(self) -> None:
        errors = self.driver.find_elements(By.CSS_SELECTOR, self.profile.login.error)
        text = errors[0].text.strip() if errors else ""
        normal = normalise_text(text)
        if any(normalise_text(p) in normal for p in self.profile.login.locked_phrases):
            raise ScrapeFailure(FailureReason.ACCOUNT_LOCKED, f"the portal says: {text}")
        raise ScrapeFailure(
            FailureReason.LOGIN_FAILED,
            f"the portal refused the login: {text or 'the login page came back without a message'}",
        )

    def _maintenance_text(self) -> str:
        return maintenance_text(self.driver, self.profile)


def maintenance_text(driver: WebDriver, profile: Profile) -> str:
    selector = profile.pages.maintenance
    found = driver.find_elements(By.CSS_SELECTOR, selector) if selector else []
    text = found[0].text.strip() if found else ""
    return f"the portal is in maintenance: {text}" if text else "the portal is in maintenance"


class TablePage(PortalPage):
    """A page of the table, read in one go from the page source."""

    def read(self, number: int, read_at: dt.datetime) -> ParsedPage:
        return parse_table_page(self._source(), self.profile.table, number, read_at)

    def _source(self, attempts: int = 3) -> str:
        """The page source; read again if the document was replaced while it was being read.

        ChromeDriver reads the source in two DevTools calls; a late navigation or re-render in
        between fails the second with "Node with given id does not belong to the document".
        """
        for attempt in range(attempts):
            try:
                return str(self.driver.page_source)
            except WebDriverException as exc:
                if _REPLACED not in str(exc) or attempt == attempts - 1:
                    raise
                state = self.wait_until_known(self.profile.timeouts.page_seconds)
                if state.kind is not PageKind.TABLE:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises
