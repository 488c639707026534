"""How fast the simulated portal serves its table, next to a trivial response from the same server.

The portal runs as in the tests and the demo (uvicorn in a thread of this process); the client
is httpx in a second process, so client and server do not share one interpreter lock. Each
figure is the median of a few rounds; ratios are against a constant response served by the same
app, so they hold on a noisy machine.

    uv run python bench/demo_portal.py [--items 10000] [--page-size 50] [--rounds 5]
    uv run --with selenium python bench/demo_portal.py --browser 40   # and the browser's side
"""

import argparse
import datetime as dt
import multiprocessing as mp
import re
import statistics
import time
from dataclasses import dataclass

import httpx
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import SecretStr

from etawatch.demo.domain.scenario import Scenario
from etawatch.demo.portal import PortalConfig, PortalServer, RenderMode
from etawatch.runtime.log import configure_logging
from etawatch.scraper.adapters.browser import HEADLESS_ARGS

PASSWORD = "bench-password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _client(
    targets: list[tuple[str, str, list[str]]],
    rounds: int,
    results: "mp.Queue[dict[str, list[float]]]",
) -> None:
    """Log in to each portal, then time every target once per round, interleaved, after one
    warm-up round; sends back each target's times."""
    clients: dict[str, httpx.Client] = {}
    times: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    try:
        for _, url, _ in targets:
            if url not in clients:
                clients[url] = httpx.Client(base_url=url, timeout=60)
                _login(clients[url])
        for number in range(rounds + 1):
            for name, url, paths in targets:
                client = clients[url]
                start = time.perf_counter()
                for path in paths:
                    answer = client.get(path)
                    assert answer.status_code == 200, (path, answer.status_code)
                if number:  # round 0 warms up
                    times[name].append(time.perf_counter() - start)
    finally:
        for client in clients.values():
            client.close()
    results.put(times)


def _login(client: httpx.Client) -> None:
    token = _CSRF.search(client.get("/login").text)
    assert token, "no CSRF token on the login page"
    data = {"username": "shop", "password": PASSWORD, "csrf_token": token.group(1)}
    answer = client.post("/login", data=data)
    assert answer.status_code == 303, answer.status_code


@dataclass
class Figure:
    name: str
    requests: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def measure(targets: list[tuple[str, str, list[str]]], rounds: int) -> list[Figure]:
    """Run the client in a second process (no shared interpreter lock with the server)."""
    context = mp.get_context("spawn")
    results: mp.Queue[dict[str, list[float]]] = context.Queue()
    process = context.Process(target=_client, args=(targets, rounds, results))
    process.start()
    times = results.get(timeout=900)
    process.join(timeout=60)
    if process.exitcode != 0:
        raise RuntimeError("the benchmark client failed")
    return [Figure(name, len(paths), statistics.median(times[name])) for name, _, paths in targets]


def add_baselines(portal: PortalServer, page_bytes: bytes) -> None:
    """Constant answers from the same app: a tiny one, and one as large as a table page."""

    async def tiny() -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def static_page() -> HTMLResponse:
        return HTMLResponse(page_bytes)

    portal.app.add_api_route("/bench/tiny", tiny)
    portal.app.add_api_route("/bench/static-page", static_page)


def sample_page(url: str) -> bytes:
    with httpx.Client(base_url=url) as client:
        _login(client)
        return client.get("/availability?page=2").content


def run(items: int, page_size: int, rounds: int) -> list[Figure]:
    started = time.perf_counter()
    server_mode = PortalConfig(items=items, page_size=page_size, password=SecretStr(PASSWORD))
    script_mode = server_mode.model_copy(update={"mode": RenderMode.SCRIPT})
    with PortalServer(server_mode) as portal, PortalServer(script_mode) as scripted:
        took = time.perf_counter() - started
        print(f"two catalogues of {items} items built and serving in {took:.2f} s")
        pages = -(-items // page_size)
        numbers = range(1, pages + 1)
        add_baselines(portal, sample_page(portal.url))
        return measure(
            [
                ("constant 'ok' (baseline)", portal.url, ["/bench/tiny"] * pages),
                ("constant page-sized HTML", portal.url, ["/bench/static-page"] * pages),
                (
                    "table pages, server mode",
                    portal.url,
                    [f"/availability?page={n}" for n in numbers],
                ),
                (
                    "HTML shells, script mode",
                    scripted.url,
                    [f"/availability?page={n}" for n in numbers],
                ),
                (
                    "JSON pages, script mode",
                    scripted.url,
                    [f"/api/availability?page={n}" for n in numbers],
                ),
                ("CSV export, whole catalogue", portal.url, ["/export.csv"]),
            ],
            rounds,
        )


CHROMIUM_ARGS = list(HEADLESS_ARGS)  # the scraper's own flags: measure what it runs


def browser(items: int, page_size: int, pages: int, rounds: int) -> list[Figure]:
    """Headless Chromium loading table pages and reading their source, as the scraper does.

    Needs Selenium, which the portal does not depend on: ``uv run --with selenium python ...``.
    """
    from selenium import webdriver  # noqa: PLC0415 - optional
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    figures = []
    try:
        for mode in (RenderMode.SERVER, RenderMode.SCRIPT):
            config = PortalConfig(
                items=items, page_size=page_size, mode=mode, password=SecretStr(PASSWORD)
            )
            with PortalServer(config) as portal:
                driver.get(f"{portal.url}/login")
                driver.find_element(By.NAME, "username").send_keys("shop")
                driver.find_element(By.NAME, "password").send_keys(PASSWORD)
                driver.find_element(By.ID, "login-submit").click()
                WebDriverWait(driver, 10).until(lambda d: "/availability" in d.current_url)
                times = []
                for number in range(rounds + 1):
                    start = time.perf_counter()
                    for page in range(1, pages + 1):
                        driver.get(f"{portal.url}/availability?page={page}")
                        if mode is RenderMode.SCRIPT:
                            WebDriverWait(driver, 10, poll_frequency=0.02).until(
                                lambda d: (
                                    d.find_element(By.ID, "availability-table").get_attribute(
                                        "data-loaded"
                                    )
                                    in ("true", "error")
                                )
                            )
                        assert "FK-" in driver.page_source
                    if number:
                        times.append(time.perf_counter() - start)
                name = f"Chromium: load + page_source, {mode.value} mode"
                figures.append(Figure(name, pages, statistics.median(times)))
    finally:
        driver.quit()
    return figures


def scaling(page_size: int) -> None:
    """Building 100,000 items, and a page deep in them: the work per page must not grow."""
    start = time.perf_counter()
    scenario = Scenario(100_000, 7, dt.date(2026, 12, 1))
    built = time.perf_counter() - start
    timings = {}
    for offset in (0, 99_000):
        start = time.perf_counter()
        for _ in range(200):
            scenario.page(offset, page_size)
        timings[offset] = (time.perf_counter() - start) / 200
    start = time.perf_counter()
    changes = scenario.advance(1)
    advanced = time.perf_counter() - start
    print(
        f"100,000 items: built in {built:.2f} s; one page of {page_size} at row 0: "
        f"{timings[0] * 1e6:.0f} µs, at row 99,000: {timings[99_000] * 1e6:.0f} µs; "
        f"one day advanced in {advanced:.2f} s ({len(changes)} changes)"
    )


def items_line(args: argparse.Namespace) -> str:
    return f"{args.items} items, {args.page_size} per page, median of {args.rounds} rounds:"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--browser",
        type=int,
        default=0,
        metavar="PAGES",
        help="also time headless Chromium over this many pages (needs Selenium)",
    )
    args = parser.parse_args()
    configure_logging(level="WARNING")
    figures = run(args.items, args.page_size, args.rounds)
    if args.browser:
        figures += browser(args.items, args.page_size, args.browser, min(args.rounds, 3))
    base = figures[0]
    print(f"\n{items_line(args)}")
    print(f"{'what':45} {'requests':>8} {'median s':>9} {'req/s':>8} {'x slower than ok':>17}")
    for figure in figures:
        ratio = base.per_second / figure.per_second
        print(
            f"{figure.name:45} {figure.requests:8d} {figure.seconds:9.3f} "
            f"{figure.per_second:8.1f} {ratio:17.2f}"
        )
    if args.browser:
        table = next(f for f in figures if f.name.startswith("table pages"))
        for figure in figures[-2:]:
            ratio = table.per_second / figure.per_second
            print(f"{figure.name}: {ratio:.1f}x the portal's time per server-mode table page")
    scaling(args.page_size)


if __name__ == "__main__":
    main()
