"""The simulated portal (server and script mode), a queue on the scrape exchange, and a runner
that drives the real scraper with real Chromium and checks every browser it started was quit."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from etawatch_testing.infra import RabbitVhost
from etawatch_testing.scraper import (
    RunMessages,
    ScrapeQueue,
    browser_is_closed,
    scraper_settings,
    tracking_browsers,
)
from pydantic import SecretStr

from etawatch.contracts.topology import SCRAPE_EXCHANGE
from etawatch.demo.portal import PortalConfig, PortalServer, RenderMode
from etawatch.runtime.bus import MessageBus
from etawatch.scraper.adapters.browser import chromium_factory
from etawatch.scraper.adapters.profiles import load_profile
from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.bootstrap import Scraper, browser_config, rabbit_bus, reader_factory
from etawatch.scraper.config import ScraperSettings
from etawatch.scraper.domain.profile import Profile

ITEMS, PAGE_SIZE = 120, 25


def _portal(mode: RenderMode) -> PortalServer:
    return PortalServer(PortalConfig(items=ITEMS, page_size=PAGE_SIZE, seed=11, mode=mode))


@pytest.fixture(scope="session")
def server_portal() -> Iterator[PortalServer]:
    with _portal(RenderMode.SERVER) as portal:
        yield portal


@pytest.fixture(scope="session")
def script_portal() -> Iterator[PortalServer]:
    with _portal(RenderMode.SCRIPT) as portal:
        yield portal


@pytest.fixture(autouse=True)
def _faults_off(server_portal: PortalServer, script_portal: PortalServer) -> Iterator[None]:
    server_portal.faults.clear()
    script_portal.faults.clear()
    yield
    server_portal.faults.clear()
    script_portal.faults.clear()


@pytest.fixture
async def scrape_queue(rabbit: RabbitVhost) -> AsyncIterator[ScrapeQueue]:
    """Everything published on the scrape exchange during the test."""
    connection = await aio_pika.connect(rabbit.url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            SCRAPE_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="#")
        yield ScrapeQueue(channel, queue)


@dataclass
class Result:
    outcome: RunOutcome
    messages: RunMessages
    settings: ScraperSettings


Runner = Callable[..., Awaitable[Result]]


@pytest.fixture
async def bus(rabbit: RabbitVhost, tmp_path: Path) -> AsyncIterator[MessageBus]:
    settings = ScraperSettings(amqp_url=SecretStr(rabbit.url), data_dir=tmp_path)
    async with rabbit_bus(settings) as connected:
        yield connected


@pytest.fixture
def scrape(scrape_queue: ScrapeQueue, bus: MessageBus, tmp_path: Path) -> Runner:
    """``await scrape(profile, portal, **settings)``: one real run, its messages on RabbitMQ."""

    async def run(
        profile: str | Profile,
        portal: PortalServer,
        data_dir: Path | None = None,
        **overrides: Any,
    ) -> Result:
        loaded = load_profile(profile) if isinstance(profile, str) else profile
        settings = scraper_settings(portal.url, data_dir or tmp_path / "data", **overrides)
        with tracking_browsers(chromium_factory(browser_config(settings, loaded))) as (
            start,
            started,
        ):
            readers = reader_factory(loaded, settings, browser=start)
            outcome = await Scraper(loaded, settings, bus, readers=readers).run_once()
        assert started, "the run started no browser"
        assert all(browser_is_closed(d) for d in started), "a browser was left running"
        messages = await scrape_queue.messages_of(outcome.run_id)
        return Result(outcome, messages, settings)

    return run
