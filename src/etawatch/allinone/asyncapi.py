"""AsyncAPI documents of the services, generated from their FastStream brokers and committed.

``python -m etawatch.allinone.asyncapi --write`` writes ``docs/asyncapi/<service>.json``;
without ``--write`` it only says which committed document is not current (exit status 1).
Nothing connects: the brokers get their subscribers (the ledger's ``LedgerConsumer``, the
notifier's ``create_app``) and publisher declarations (``entrypoints/asyncapi.py`` of each
service) over in-memory stores, and FastStream describes them.
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI

from etawatch.contracts.schemas import render
from etawatch.ledger.application.service import Ledger
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.entrypoints import asyncapi as ledger_api
from etawatch.ledger.entrypoints.stream import LedgerConsumer
from etawatch.notifier.adapters.outbox import OutboxTransport
from etawatch.notifier.adapters.sql.database import SqliteDatabase
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.ports import SystemClock
from etawatch.notifier.application.service import NotifierService
from etawatch.notifier.config import NotifierSettings
from etawatch.notifier.entrypoints import asyncapi as notifier_api
from etawatch.notifier.entrypoints.stream import create_app
from etawatch.notifier.rendering.compose import EmailComposer, ShopProfile
from etawatch.query_api.entrypoints import asyncapi as query_api_api
from etawatch.runtime.asyncapi import declare_publications
from etawatch.runtime.rabbit import RabbitBus
from etawatch.scraper.entrypoints import asyncapi as scraper_api

Document = dict[str, Any]

DOC_DIR = Path(__file__).resolve().parents[3] / "docs" / "asyncapi"
SERVER_URL = "amqp://localhost:5672/"
"""Where the documents say the broker is (the default of every service's ``amqp_url``)."""

DESCRIPTIONS = {
    "scraper": "Reads the supplier's table and publishes every row and each run's outcome.",
    "ledger": "Stores every observation and order in the event store and relays what changed.",
    "notifier": "Emails customers about changes of their orders and reports each outcome.",
    "query-api": "The shop's REST API; publishes the shop's order commands.",
}


def _broker() -> RabbitBroker:
    return RabbitBroker(SERVER_URL, logger=None)


async def scraper_broker() -> RabbitBroker:
    broker = _broker()
    declare_publications(broker, scraper_api.PUBLICATIONS)
    return broker


async def query_api_broker() -> RabbitBroker:
    broker = _broker()
    declare_publications(broker, query_api_api.PUBLICATIONS)
    return broker


async def ledger_broker() -> RabbitBroker:
    """The ``LedgerConsumer``'s subscribers, over an in-memory event store."""
    store = LedgerStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    consumer = LedgerConsumer(Ledger(store), _broker())
    declare_publications(consumer.broker, ledger_api.PUBLICATIONS)
    return consumer.broker


async def notifier_broker() -> RabbitBroker:
    """The subscribers of ``create_app``, over an in-memory SQLite store that is never used."""
    broker = _broker()
    database = SqliteDatabase(":memory:")
    try:
        service = NotifierService(
            store=SqlNotifierStore(database),
            transport=OutboxTransport(Path("outbox")),
            bus=RabbitBus(broker),
            composer=EmailComposer(ShopProfile(name="shop", sender="shop@example.invalid")),
            clock=SystemClock(),
        )
        create_app(
            broker,
            service,
            interval=1.0,
            prefetch=NotifierSettings.model_fields["prefetch"].default,
        )
    finally:
        await database.close()
    declare_publications(broker, notifier_api.PUBLICATIONS)
    return broker


BROKERS: dict[str, Callable[[], Awaitable[RabbitBroker]]] = {
    "scraper": scraper_broker,
    "ledger": ledger_broker,
    "notifier": notifier_broker,
    "query-api": query_api_broker,
}


def describe(service: str, broker: RabbitBroker) -> Document:
    spec = AsyncAPI(
        broker,
        title=f"etawatch-{service}",
        version=version(f"etawatch-{service}"),
        description=DESCRIPTIONS[service],
    )
    document: Document = spec.to_specification().to_jsonable()
    return document


async def documents() -> dict[str, Document]:
    """Every service's AsyncAPI document, by service name."""
    return {service: describe(service, await build()) for service, build in BROKERS.items()}


def document_path(service: str, root: Path = DOC_DIR) -> Path:
    return root / f"{service}.json"


def _current(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="write the current documents")
    parser.add_argument("--dir", type=Path, default=DOC_DIR)
    args = parser.parse_args(argv)
    texts = {
        document_path(service, args.dir): render(document)
        for service, document in asyncio.run(documents()).items()
    }
    stale = [path for path, text in texts.items() if _current(path) != text]
    for path in stale:
        if args.write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(texts[path], encoding="utf-8")
            sys.stdout.write(f"wrote {path}\n")
        else:
            sys.stderr.write(f"{path} is not current; run `make asyncapi`\n")
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    raise SystemExit(main())
