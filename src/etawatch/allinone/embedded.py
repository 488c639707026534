"""All four services in one process, joined by the in-process bus.

Same handlers and contracts as the distributed mode: the ledger's batch and command handlers,
its relay, the notifier's handler and flush, the query API's projector and HTTP app. Stores are
SQLite files in one data folder; emails go to ``.eml`` files unless an SMTP URL is given.
"""

import asyncio
import datetime as dt
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope
from etawatch.contracts.topology import (
    LEDGER_EXCHANGE,
    NOTIFICATIONS_EXCHANGE,
    NOTIFIER_CHANGES,
    SCRAPE_EXCHANGE,
    Binding,
    QueueSpec,
)
from etawatch.ledger.application.service import Ledger
from etawatch.ledger.bootstrap import build_ledger
from etawatch.ledger.config import LedgerSettings
from etawatch.notifier.application.delivery import Delivery
from etawatch.notifier.application.service import NotifierService
from etawatch.notifier.bootstrap import build_notifier
from etawatch.notifier.config import NotifierSettings
from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.bootstrap import build as build_query_api
from etawatch.query_api.config import QueryApiSettings
from etawatch.query_api.entrypoints.api.app import create_app
from etawatch.runtime.bus import InMemoryBus
from etawatch.scraper.adapters.profiles import load_profile
from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.bootstrap import Scraper
from etawatch.scraper.config import ScraperSettings

WATCH_LEDGER = QueueSpec("allinone.watch.ledger", (Binding(LEDGER_EXCHANGE, "#"),))
WATCH_NOTIFICATIONS = QueueSpec(
    "allinone.watch.notifications", (Binding(NOTIFICATIONS_EXCHANGE, "#"),)
)
WATCH_RUNS = QueueSpec("allinone.watch.runs", (Binding(SCRAPE_EXCHANGE, "run.#"),))


@dataclass(frozen=True)
class EmbeddedConfig:
    data_dir: Path
    portal_url: str
    portal_username: str
    portal_password: SecretStr
    profile: str = "simulated-server"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    smtp_url: SecretStr | None = None
    shop_name: str = "Figurky Shop (demo)"
    debounce_minutes: float = 0.0

    def sqlite(self, name: str) -> SecretStr:
        return SecretStr(f"sqlite:///{(self.data_dir / name).resolve()}")


@dataclass
class Watched:
    """What went over the bus, for the narrator and the verdict."""

    ledger: list[Envelope[Message]] = field(default_factory=list)
    notifications: list[Envelope[Message]] = field(default_factory=list)
    runs: list[Envelope[Message]] = field(default_factory=list)


class EmbeddedSystem:
    def __init__(self, config: EmbeddedConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.bus = InMemoryBus()
        self.watched = Watched()
        self.ledger: Ledger = build_ledger(
            LedgerSettings(database_url=config.sqlite("ledger.sqlite"), data_dir=config.data_dir)
        )
        self.notifier_settings = NotifierSettings(
            database_url=config.sqlite("notifier.sqlite"),
            outbox_dir=config.data_dir / "outbox",
            delivery="smtp" if config.smtp_url else "outbox",
            smtp_url=config.smtp_url,
            shop_name=config.shop_name,
            debounce_minutes=config.debounce_minutes,
            tell_small_slips=True,
            tell_availability_changed=True,
        )
        self.notifier: NotifierService | None = None
        self.query_settings = QueryApiSettings(
            database_url=config.sqlite("ledger.sqlite"),
            views_url=config.sqlite("views.sqlite"),
            host=config.api_host,
            port=config.api_port,
            project_in_background=False,
        )
        self.query: QueryApi | None = None
        self.scraper = Scraper(
            load_profile(config.profile),
            ScraperSettings(
                data_dir=config.data_dir / "scraper",
                portal_url=config.portal_url,
                portal_username=config.portal_username,
                portal_password=config.portal_password,
            ),
            self.bus,
        )
        self._server: uvicorn.Server | None = None
        self._server_task: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self, *, serve_api: bool = True) -> None:
        await self.ledger.start()
        self.ledger.wire(self.bus)
        self.notifier = await build_notifier(self.notifier_settings, self.bus)
        self.bus.declare(NOTIFIER_CHANGES)
        self.bus.consume(NOTIFIER_CHANGES.name, self.notifier.handle)
        for spec, sink in (
            (WATCH_LEDGER, self.watched.ledger),
            (WATCH_NOTIFICATIONS, self.watched.notifications),
            (WATCH_RUNS, self.watched.runs),
        ):
            self.bus.declare(spec)
            self.bus.consume(spec.name, _collector(sink))
        self.query = build_query_api(
            self.query_settings, bus=self.bus, ledger_store=self.ledger.store
        )
        await self.query.start()
        if serve_api:
            app = create_app(self.query, run_projector=False)
            config = uvicorn.Config(
                app,
                host=self.config.api_host,
                port=self.config.api_port,
                log_config=None,  # through the shared, redacting log set-up (as the portal's)
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
            self._server = uvicorn.Server(config)
            self._server_task = asyncio.create_task(self._server.serve(sockets=[self._listen()]))
            while not self._server.started:
                if self._server_task.done():
                    raise RuntimeError("the query API stopped while starting")
                await asyncio.sleep(0.05)

    def _listen(self) -> socket.socket:
        """Bind the API's port here, so that a port in use is a clear error, not an exit."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.api_host, self.config.api_port))
            sock.listen(2048)
        except OSError as exc:
            sock.close()
            raise ValueError(
                f"the query API cannot listen on {self.config.api_host}:{self.config.api_port} "
                f"({exc.strerror}); choose another port with --api-port"
            ) from exc
        return sock

    async def stop(self) -> None:
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
        if self.query is not None:
            await self.query.stop()
            self.query.close()

    # --- one step of each part ----------------------------------------------------------------

    async def scrape(self) -> RunOutcome:
        return await self.scraper.run_once()

    async def settle(self, now: dt.datetime | None = None) -> Sequence[Delivery]:
        """Carry everything published so far through the ledger, notifier and views."""
        if self.notifier is None or self.query is None:
            raise RuntimeError("start() first")
        await self.bus.drain()
        while await self.ledger.relay_once(self.bus):
            await self.bus.drain()
        deliveries = await self.notifier.flush_due(now or dt.datetime.now(dt.UTC))
        await self.bus.drain()
        while await self.ledger.relay_once(self.bus):
            await self.bus.drain()
        await self.query.project_once()
        return deliveries


def _collector(sink: list[Envelope[Message]]) -> Callable[[Envelope[Message]], Awaitable[None]]:
    async def collect(envelope: Envelope[Message]) -> None:
        sink.append(envelope)

    return collect
