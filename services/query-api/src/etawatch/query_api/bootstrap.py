"""The one place where the query API's adapters are chosen and wired together."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.utils import Environment
from faststream.rabbit import RabbitBroker

from etawatch.contracts.topology import LEDGER_ORDERS
from etawatch.ledger.application.store import LedgerStore
from etawatch.query_api.adapters.key_store import SqlKeyStore
from etawatch.query_api.adapters.ledger_events import LedgerEventSource, LedgerHistory
from etawatch.query_api.adapters.sql_views import SqlViewStore
from etawatch.query_api.adapters.view_queries import ViewQueries
from etawatch.query_api.adapters.view_reader import Reader, reader_for
from etawatch.query_api.application.auth import Authenticator
from etawatch.query_api.application.projector import Projector
from etawatch.query_api.config import QueryApiSettings
from etawatch.query_api.domain.projections.registry import all_projections
from etawatch.runtime.bus import MessageBus
from etawatch.runtime.log import get_logger
from etawatch.runtime.rabbit import RabbitBus, declare_topology

log = get_logger(__name__)

VIEWS_ENV_NAME = "QueryApi"
"""Names the views' tracking table on PostgreSQL (``queryapi_tracking``)."""

Check = Callable[[], Awaitable[None]]


def open_views(settings: QueryApiSettings, tracking_prefix: str = "Ledger") -> SqlViewStore:
    env = Environment(VIEWS_ENV_NAME, settings.views_env())
    factory: InfrastructureFactory[TrackingRecorder] = InfrastructureFactory.construct(env)
    return SqlViewStore(factory.tracking_recorder(), tracking_prefix)


@dataclass
class QueryApi:
    """Everything the HTTP app, the CLI and the embedded demo need, already wired."""

    settings: QueryApiSettings
    source: LedgerEventSource
    views: SqlViewStore
    projector: Projector
    history: LedgerHistory
    keys: SqlKeyStore
    auth: Authenticator
    bus: MessageBus
    reader: Reader
    queries: ViewQueries
    broker: RabbitBroker | None = None
    checks: dict[str, Check] = field(default_factory=dict)

    def project_once_sync(self) -> int:
        """Catch every view up with the ledger; return how many events were applied."""
        return self.projector.catch_up()

    async def project_once(self) -> int:
        """``project_once_sync`` off the event loop: the step the demo and the loop call."""
        return await asyncio.to_thread(self.project_once_sync)

    async def start(self) -> None:
        await self.reader.open()
        if self.broker is not None:
            try:
                await connect_broker(self.broker)
            except Exception as exc:
                log.warning("RabbitMQ unavailable at start; /readyz will retry", error=repr(exc))

    async def stop(self) -> None:
        await self.queries.close()
        await self.reader.close()
        if self.broker is not None:
            await self.broker.stop()

    def close(self) -> None:
        self.source.close()


def build(
    settings: QueryApiSettings | None = None,
    *,
    bus: MessageBus | None = None,
    ledger_env: dict[str, str] | None = None,
    ledger_store: LedgerStore | None = None,
) -> QueryApi:
    """Wire the query API.

    ``bus`` given (embedded mode) is used as is; otherwise RabbitMQ at ``amqp_url``. The ledger's
    store is read from ``ledger_store`` if given (embedded mode), else opened read-only from
    ``ledger_env`` or the settings' ``database_url``.
    """
    settings = settings or QueryApiSettings()
    if ledger_store is not None:
        source = LedgerEventSource(store=ledger_store)
    else:
        source = LedgerEventSource(ledger_env or settings.ledger_env())
    views = open_views(settings, tracking_prefix=source.store.name)
    projections = all_projections().values()
    for projection in projections:
        views.ensure(projection.name, projection.tables, projection.retired)
    projector = Projector(
        source,
        views,
        projections,
        batch_size=settings.projection_batch_size,
        cache_rows=settings.projection_cache_rows,
        batch_rows=settings.projection_batch_rows,
    )
    keys = SqlKeyStore(views)
    reader = reader_for(settings.views_url.get_secret_value())
    broker: RabbitBroker | None = None
    if bus is None:
        broker = RabbitBroker(settings.amqp_url.get_secret_value(), logger=None)
        bus = RabbitBus(broker)
    in_flight = settings.order_reads_in_flight
    queries = ViewQueries(
        reader, coalesce=reader.reads_in_flight if in_flight is None else in_flight
    )
    api = QueryApi(
        settings=settings,
        source=source,
        views=views,
        projector=projector,
        history=LedgerHistory(source),
        keys=keys,
        auth=Authenticator(keys, ttl=settings.key_cache_seconds),
        bus=bus,
        reader=reader,
        queries=queries,
        broker=broker,
    )
    api.checks["views"] = queries.ping
    api.checks["ledger"] = _ledger_check(source)
    if broker is not None:
        api.checks["broker"] = _broker_check(broker)
    return api


def _ledger_check(source: LedgerEventSource) -> Check:
    async def check() -> None:
        await asyncio.to_thread(source.head)

    return check


async def connect_broker(broker: RabbitBroker) -> None:
    """Connect (again) and declare the exchanges and the ledger's order queue."""
    await broker.connect()
    await declare_topology(broker, (LEDGER_ORDERS,))


def _broker_check(broker: RabbitBroker) -> Check:
    async def check() -> None:
        if not await broker.ping(timeout=2.0):
            await connect_broker(broker)
        if not await broker.ping(timeout=2.0):
            raise ConnectionError("RabbitMQ does not answer")

    return check
