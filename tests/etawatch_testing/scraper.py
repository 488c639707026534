"""Test helpers of the scraper: fakes for unit tests, and the real pieces for integration tests."""

import asyncio
import datetime as dt
import html
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
from pydantic import SecretStr

from etawatch.contracts.envelope import Envelope, open_envelope
from etawatch.contracts.messages import (
    ItemAvailabilityObserved,
    ScrapeRunCompleted,
    ScrapeRunFailed,
    ScrapeRunStarted,
)
from etawatch.scraper.adapters.profiles import load_profile
from etawatch.scraper.config import ScraperSettings
from etawatch.scraper.domain.profile import Profile, merge, profile_from_data
from etawatch.scraper.domain.table import PortalRead, TablePage

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
HEADERS = (
    "Kód zboží",
    "Název",
    "Výrobce",
    "Dostupnost",
    "Předpokládané naskladnění",
    "Přiděleno",
)
PORTAL_PASSWORD = "portal-secret"


def server_profile(**overrides: Any) -> Profile:
    """The shipped server profile, with some tables replaced (``retries={"attempts": 1}``)."""
    base = load_profile("simulated-server").model_dump(mode="json")
    return profile_from_data(merge(base, overrides), "test")


def row(n: int, availability: str = "Předobjednávka", eta: str = "Q2 2027") -> tuple[str, ...]:
    return (f"FK-{n:06d}", f"Nendoroid Figure {n}", "Good Smile Company", availability, eta, "3")


def page(
    rows: Sequence[tuple[str, ...]],
    *,
    number: int = 1,
    headers: tuple[str, ...] = HEADERS,
    total: int | None = None,
) -> TablePage:
    return TablePage(
        number=number, headers=headers, rows=tuple(rows), read_at=NOW, declared_total=total
    )


def catalogue_read(items: int, page_size: int = 25) -> PortalRead:
    rows = [row(n) for n in range(1, items + 1)]
    pages = [
        page(rows[i : i + page_size], number=i // page_size + 1, total=items)
        for i in range(0, items, page_size)
    ]
    return PortalRead(pages=tuple(pages))


def availability_html(
    rows: Sequence[tuple[str, ...]],
    *,
    number: int = 1,
    pages: int = 1,
    total: int | None = None,
    headers: Sequence[str] = HEADERS,
) -> str:
    """A table page shaped as the portal interface describes it."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>\n" for cells in rows
    )
    pager = "".join(
        f'<li><a class="page-link" href="/availability?page={k}">{k}</a></li>'
        for k in range(1, pages + 1)
    )
    if number > 1:
        pager = (
            f'<li><a class="page-link" rel="prev" href="/availability?page={number - 1}">'
            f"« Předchozí</a></li>{pager}"
        )
    if number < pages:
        pager += (
            f'<li><a class="page-link" rel="next" href="/availability?page={number + 1}">'
            "Další »</a></li>"
        )
    shown_total = total if total is not None else len(rows)
    return f"""<!doctype html><html lang="cs"><head><meta charset="utf-8">
<title>Dostupnost zboží | Figurky Praha s.r.o. B2B</title></head><body>
<h1>Dostupnost zboží</h1>
<p class="summary">Celkem položek: <span id="total-items">{shown_total}</span></p>
<a id="export-csv" href="/export.csv">Export</a>
<table id="availability-table" class="table"><thead><tr>{head}</tr></thead>
<tbody>
{body}</tbody></table>
<ul class="pagination">{pager}</ul><span id="page-info">Strana {number} z {pages}</span>
<a id="logout" href="/logout">Odhlásit</a></body></html>"""


# --- fakes -----------------------------------------------------------------------------------


@dataclass
class RecordingBus:
    """``MessageBus`` that keeps what was published; ``fail_after`` breaks it after N messages."""

    published: list[tuple[str, str, Envelope[Any]]] = field(default_factory=list)
    fail_after: int | None = None

    async def publish(self, envelope: Envelope[Any], *, exchange: str, routing_key: str) -> None:
        if self.fail_after is not None and len(self.published) >= self.fail_after:
            raise ConnectionError("the broker went away")
        self.published.append((exchange, routing_key, envelope))

    def of_type(self, model: type[Any]) -> list[Envelope[Any]]:
        return [e for _, _, e in self.published if isinstance(e.data, model)]


@dataclass
class FakeReader:
    """``PortalReader`` that returns a prepared read or raises; records what was asked of it."""

    result: PortalRead | BaseException
    block_until_closed: bool = False
    logins: int = 1
    closed: int = 0
    artifacts_asked: list[Path] = field(default_factory=list)
    _closed_event: threading.Event = field(default_factory=threading.Event)

    def read(self, deadline: float) -> PortalRead:
        if self.block_until_closed:
            self._closed_event.wait(timeout=30)
            raise RuntimeError("the browser was closed under the reader")
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result

    def save_artifacts(self, folder: Path) -> list[Path]:
        self.artifacts_asked.append(folder)
        return [folder / "screenshot.png", folder / "page.html"]

    def close(self) -> None:
        self.closed += 1
        self._closed_event.set()


@dataclass
class MemoryState:
    items: dict[str, int] = field(default_factory=dict)

    def last_complete_items(self, profile: str) -> int | None:
        return self.items.get(profile)

    def record_complete(self, profile: str, items: int, run_id: uuid.UUID, at: dt.datetime) -> None:
        self.items[profile] = items


# --- real pieces for integration tests -------------------------------------------------------


def scraper_settings(portal_url: str, data_dir: Path, **overrides: Any) -> ScraperSettings:
    values: dict[str, Any] = {
        "portal_url": portal_url,
        "data_dir": data_dir,
        "portal_username": "shop",
        "portal_password": SecretStr(PORTAL_PASSWORD),
    }
    return ScraperSettings(**(values | overrides))


@dataclass
class RunMessages:
    started: list[ScrapeRunStarted]
    observed: list[ItemAvailabilityObserved]
    completed: list[ScrapeRunCompleted]
    failed: list[ScrapeRunFailed]
    envelopes: list[Envelope[Any]]
    routing_keys: list[str]


class ScrapeQueue:
    """A queue bound to everything on the scrape exchange, read back per run."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel, queue: aio_pika.abc.AbstractQueue):
        self.channel = channel
        self.queue = queue
        self._seen: list[tuple[str, Envelope[Any]]] = []

    async def messages_of(self, run_id: uuid.UUID, within: float = 20.0) -> RunMessages:
        """Every message of the run, once its final event (completed or failed) arrived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self._finished(run_id):
            if loop.time() > deadline:
                raise AssertionError(f"run {run_id} did not finish on the broker in {within} s")
            message = await self.queue.get(no_ack=True, fail=False, timeout=5)
            if message is None:
                await asyncio.sleep(0.05)  # polling the broker: nothing has arrived yet
                continue
            self._seen.append((message.routing_key or "", open_envelope(message.body)))
        mine = [(k, e) for k, e in self._seen if getattr(e.data, "run_id", None) == run_id]
        data = [e.data for _, e in mine]
        return RunMessages(
            started=[d for d in data if isinstance(d, ScrapeRunStarted)],
            observed=[d for d in data if isinstance(d, ItemAvailabilityObserved)],
            completed=[d for d in data if isinstance(d, ScrapeRunCompleted)],
            failed=[d for d in data if isinstance(d, ScrapeRunFailed)],
            envelopes=[e for _, e in mine],
            routing_keys=[k for k, _ in mine],
        )

    def _finished(self, run_id: uuid.UUID) -> bool:
        return any(
            isinstance(e.data, ScrapeRunCompleted | ScrapeRunFailed) and e.data.run_id == run_id
            for _, e in self._seen
        )


@contextmanager
def tracking_browsers(
    factory: Callable[[], Any],
) -> Iterator[tuple[Callable[[], Any], list[Any]]]:
    """Wrap a browser factory so a test can check afterwards that every browser was quit."""
    started: list[Any] = []

    def start() -> Any:
        driver = factory()
        started.append(driver)
        return driver

    yield start, started


def browser_is_closed(driver: Any) -> bool:
    """ChromeDriver's process has ended: ``quit`` was called and went through."""
    process = driver.service.process
    return process is None or process.poll() is not None
