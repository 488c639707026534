"""Downloading a portal's export over HTTP with the browser's cookies, and judging the answer."""

import httpx

from etawatch.contracts.messages import FailureReason
from etawatch.scraper.adapters.html_table import html_page_kind
from etawatch.scraper.domain.failures import ScrapeFailure, TransientError
from etawatch.scraper.domain.profile import Profile


class LoginNeeded(Exception):  # noqa: N818 - a signal, not an error
    """The export answered with the login page: the session is gone."""


def download(
    url: str, *, cookies: dict[str, str], headers: dict[str, str], timeout: float
) -> httpx.Response:
    """One GET without following redirects; timeouts and broken connections are transient."""
    try:
        with httpx.Client(
            cookies=cookies, headers=headers, timeout=timeout, follow_redirects=False
        ) as client:
            return client.get(url)
    except httpx.TimeoutException as exc:
        raise TransientError(FailureReason.TIMEOUT, f"the export timed out: {exc!r}") from exc
    except httpx.TransportError as exc:
        raise TransientError(FailureReason.HTTP_ERROR, f"the export failed: {exc!r}") from exc


def export_body(response: httpx.Response, profile: Profile) -> bytes:
    """The export's bytes; or why there are none (login, maintenance, an error to retry)."""
    status = response.status_code
    if response.is_redirect:
        location = response.headers.get("location", "")
        if profile.login.path in location:
            raise LoginNeeded
        raise ScrapeFailure(FailureReason.HTTP_ERROR, f"the export redirects to {location}")
    if status >= 500 or status == 429:
        raise TransientError(FailureReason.HTTP_ERROR, f"the export answered HTTP {status}")
    if status >= 400:
        raise ScrapeFailure(FailureReason.HTTP_ERROR, f"the export answered HTTP {status}")
    if "html" in response.headers.get("content-type", ""):
        kind = html_page_kind(response.text, profile)
        if kind == "maintenance":
            raise ScrapeFailure(FailureReason.MAINTENANCE, "the export shows the maintenance page")
        if kind == "login":
            raise LoginNeeded
        raise ScrapeFailure(
            FailureReason.LAYOUT_CHANGED, f"the export answered with an HTML page ({kind})"
        )
    return response.content
