"""The one place where the scraper's real adapters are chosen and wired.

Embedded mode (the all-in-one demo) calls::

    from etawatch.scraper.bootstrap import Scraper
    scraper = Scraper(load_profile("simulated-server"), settings, bus)   # bus: InMemoryBus
    outcome = await scraper.run_once()

Distributed mode (``etawatch-scraper once|schedule``) does the same with ``rabbit_bus(settings)``.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from faststream.rabbit import RabbitBroker

from etawatch.contracts.topology import ledger_queues
from etawatch.runtime.bus import MessageBus
from etawatch.runtime.rabbit import RabbitBus, declare_topology
from etawatch.scraper.adapters.browser import BrowserConfig, BrowserFactory, chromium_factory
from etawatch.scraper.adapters.data_folder import CookieJar, FileRunState
from etawatch.scraper.adapters.metrics import ScraperMetrics
from etawatch.scraper.adapters.portal_reader import SeleniumPortalReader
from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.application.ports import Clock, PortalReader, ReaderFactory, utc_now
from etawatch.scraper.application.run import RunOptions, run_once
from etawatch.scraper.config import ScraperSettings
from etawatch.scraper.domain.profile import Profile


def browser_config(settings: ScraperSettings, profile: Profile) -> BrowserConfig:
    return BrowserConfig(
        chromium=settings.chromium_binary,
        chromedriver=settings.chromedriver,
        page_load_timeout_seconds=profile.timeouts.page_seconds,
    )


def reader_factory(
    profile: Profile,
    settings: ScraperSettings,
    *,
    browser: BrowserFactory | None = None,
    clock: Clock = utc_now,
) -> ReaderFactory:
    """A fresh Selenium reader (and so a fresh browser) for each run."""
    start_browser = browser or chromium_factory(browser_config(settings, profile))

    def make() -> PortalReader:
        return SeleniumPortalReader(
            profile,
            settings.credentials(),
            base_url=settings.portal_url or profile.portal.base_url,
            browser_factory=start_browser,
            cookies=CookieJar(settings.data_dir, profile.name),
            clock=clock,
        )

    return make


@dataclass
class Scraper:
    """One portal profile wired to a bus: ``await scraper.run_once()`` is one scrape run."""

    profile: Profile
    settings: ScraperSettings
    bus: MessageBus
    metrics: ScraperMetrics = field(default_factory=ScraperMetrics)
    readers: ReaderFactory | None = None
    clock: Clock = utc_now
    _one_at_a_time: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def run_once(self, *, accept_drop: bool = False) -> RunOutcome:
        """One run; runs asked for while one is going wait for it (one browser per portal)."""
        async with self._one_at_a_time:
            return await self._run(accept_drop=accept_drop)

    async def _run(self, *, accept_drop: bool) -> RunOutcome:
        readers = self.readers or reader_factory(self.profile, self.settings, clock=self.clock)
        return await run_once(
            self.profile,
            self.bus,
            readers,
            FileRunState(self.settings.data_dir),
            RunOptions(
                data_dir=self.settings.data_dir,
                accept_drop=accept_drop,
                time_limit_seconds=self.settings.run_time_limit_seconds,
            ),
            clock=self.clock,
            metrics=self.metrics,
        )


async def scrape_once(
    profile: Profile, settings: ScraperSettings, bus: MessageBus, *, accept_drop: bool = False
) -> RunOutcome:
    """One scrape run of ``profile`` published on ``bus`` (``InMemoryBus`` or ``RabbitBus``)."""
    return await Scraper(profile, settings, bus).run_once(accept_drop=accept_drop)


@asynccontextmanager
async def rabbit_bus(settings: ScraperSettings) -> AsyncIterator[RabbitBus]:
    """A connected ``RabbitBus``; the ledger's queues are declared so nothing is published
    before anyone could receive it."""
    url = settings.amqp_url.get_secret_value()
    broker = RabbitBroker(url)
    try:
        await broker.connect()
    except Exception as exc:  # the client's own errors, named without the URL's password
        where = urlsplit(url)
        raise ConnectionError(
            f"RabbitMQ at {where.hostname}:{where.port or 5672} does not answer ({exc})"
        ) from exc
    async with broker:
        await declare_topology(broker, ledger_queues())
        yield RabbitBus(broker)
