"""How much the robot adds to the browser's own work, against a naive cell-by-cell reader.

One run, one simulated portal with a 10,000-row table, loopback only:

(a) baseline: a fresh headless Chromium logs in and just loads every table page (waits for the
    table, reads nothing);
(b) etawatch: a full scrape run by the robot (fresh browser, login, every page read in one go
    from the page source, validation, 10,000 observations published to the in-process bus);
(c) naive: the same pages read through WebDriver one cell at a time (``find_elements`` +
    ``.text`` per cell), measured on a sample of pages and extrapolated to the whole table.

The rate limit is off for (a) and (b) alike, so both measure work, not politeness.

    uv run python bench/scraper_browser.py [--items 10000] [--page-size 100] [--mode server]

(a) and (b) are alternated ``--rounds`` times (this machine is shared and noisy) and the best
of each is compared.
"""

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from etawatch.demo.portal import PortalConfig, PortalServer, RenderMode
from etawatch.runtime.bus import InMemoryBus
from etawatch.scraper.adapters.browser import chromium_factory
from etawatch.scraper.adapters.pages import LoginPage
from etawatch.scraper.adapters.profiles import load_profile
from etawatch.scraper.bootstrap import Scraper, browser_config, reader_factory
from etawatch.scraper.config import ScraperSettings
from etawatch.scraper.domain.profile import Profile, merge, profile_from_data

PASSWORD = "portal-secret"


def _profile(mode: RenderMode) -> Profile:
    name = "simulated-script" if mode is RenderMode.SCRIPT else "simulated-server"
    data = load_profile(name).model_dump(mode="json")
    return profile_from_data(merge(data, {"politeness": {"min_interval_seconds": 0}}), name)


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _log_in(driver: WebDriver, profile: Profile, url: str) -> None:
    settings = ScraperSettings(portal_password=SecretStr(PASSWORD))
    driver.get(f"{url}/login")
    LoginPage(driver, profile).log_in(settings.credentials(), timeout=30)


def _open_page(driver: WebDriver, profile: Profile, url: str, number: int) -> None:
    driver.get(f"{url}/availability?page={number}")
    WebDriverWait(driver, 30, poll_frequency=0.05).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, profile.table.ready))
    )


def baseline(start: Callable[[], WebDriver], profile: Profile, url: str, pages: int) -> float:
    """(a) start, log in, load every page; read nothing."""

    def run() -> None:
        driver = start()
        try:
            _log_in(driver, profile, url)
            for number in range(1, pages + 1):
                _open_page(driver, profile, url, number)
        finally:
            driver.quit()

    return _timed(run)


def naive(
    start: Callable[[], WebDriver], profile: Profile, url: str, sample: int
) -> tuple[float, int]:
    """(c) load ``sample`` pages and read every cell over WebDriver; seconds per page, cells."""
    driver = start()
    cells = 0
    try:
        _log_in(driver, profile, url)
        begin = time.perf_counter()
        for number in range(1, sample + 1):
            _open_page(driver, profile, url, number)
            table = driver.find_element(By.CSS_SELECTOR, profile.table.table)
            for row in table.find_elements(By.CSS_SELECTOR, profile.table.rows):
                for cell in row.find_elements(By.CSS_SELECTOR, profile.table.cells):
                    _ = cell.text
                    cells += 1
        per_page = (time.perf_counter() - begin) / sample
    finally:
        driver.quit()
    return per_page, cells


async def robot(
    profile: Profile, settings: ScraperSettings, start: Callable[[], WebDriver]
) -> tuple[float, int, float]:
    """(b) one full run of the robot from a fresh data folder (so it logs in, like (a)); and
    the time of reading alone (no validation, no publishing), also from a fresh folder."""
    full = settings.model_copy(update={"data_dir": settings.data_dir / "full"})
    scraper = Scraper(
        profile, full, InMemoryBus(), readers=reader_factory(profile, full, browser=start)
    )
    begin = time.perf_counter()
    outcome = await scraper.run_once()
    seconds = time.perf_counter() - begin
    if not outcome.ok:
        raise SystemExit(f"the robot's run failed: {outcome.reason}: {outcome.message}")
    fresh = settings.model_copy(update={"data_dir": settings.data_dir / "read"})
    reader = reader_factory(profile, fresh, browser=start)()
    try:
        read_only = _timed(lambda: reader.read(time.monotonic() + 600))
    finally:
        reader.close()
    return seconds, outcome.items_seen, read_only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--mode", choices=["server", "script"], default="server")
    parser.add_argument("--rounds", type=int, default=2, help="(a) and (b) alternated this often")
    parser.add_argument("--sample", type=int, default=3, help="pages read by the naive reader")
    args = parser.parse_args()

    mode = RenderMode(args.mode)
    profile = _profile(mode)
    pages = -(-args.items // args.page_size)
    config = PortalConfig(items=args.items, page_size=args.page_size, mode=mode, seed=3)
    a_runs: list[float] = []
    b_runs: list[float] = []
    reads: list[float] = []
    with PortalServer(config) as portal, tempfile.TemporaryDirectory() as data:
        start = chromium_factory(browser_config(ScraperSettings(), profile))
        print(f"{args.items} rows, {pages} pages of {args.page_size}, mode {mode.value}")
        for round_ in range(args.rounds):
            settings = ScraperSettings(
                portal_url=portal.url,
                data_dir=Path(data) / str(round_),
                portal_password=SecretStr(PASSWORD),
            )
            a_runs.append(baseline(start, profile, portal.url, pages))
            b, items, read_only = asyncio.run(robot(profile, settings, start))
            b_runs.append(b)
            reads.append(read_only)
        per_page, cells = naive(start, profile, portal.url, args.sample)

    a, b, read_only = min(a_runs), min(b_runs), min(reads)
    c = per_page * pages
    show = ", ".join
    print(f"(a) browser: start + login + load {pages} pages   {show(f'{x:.2f}' for x in a_runs)} s")
    print(f"(b) robot: full run, {items} observations       {show(f'{x:.2f}' for x in b_runs)} s")
    print(f"    robot: reading only (no validation/publish)  {show(f'{x:.2f}' for x in reads)} s")
    print(
        f"(c) naive: {args.sample} pages ({cells} cells) cell by cell, "
        f"x{pages / args.sample:.0f}: {c:.2f} s"
    )
    print(
        f"best of {args.rounds}: (b)/(a) = {b / a:.2f} (target <= 1.5); "
        f"reading only/(a) = {read_only / a:.2f}"
    )
    print(f"(c)/(b) = {c / b:.1f}")


if __name__ == "__main__":
    main()
