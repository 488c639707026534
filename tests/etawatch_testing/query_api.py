"""A ledger store filled by the real ledger, and a query API wired over it, for the tests."""

import asyncio
import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from fastapi.testclient import TestClient
from pydantic import SecretStr

from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import open_envelope
from etawatch.contracts.topology import LEDGER_ORDERS
from etawatch.ledger.application.service import Ledger
from etawatch.ledger.application.store import LedgerStore
from etawatch.query_api.application.auth import create_key
from etawatch.query_api.application.ports import PositionTaken
from etawatch.query_api.bootstrap import QueryApi, build
from etawatch.query_api.config import QueryApiSettings
from etawatch.query_api.domain.facts import Fact
from etawatch.query_api.domain.keys import Scope
from etawatch.query_api.domain.rows import (
    Changes,
    Key,
    MemoryRows,
    Row,
    Statement,
    Table,
    sorted_rows,
)
from etawatch.query_api.entrypoints.api.app import create_app
from etawatch.runtime.bus import InMemoryBus, MessageBus
from etawatch_testing.ledger import (
    NOW,
    RecordingBus,
    RunScript,
    closed,
    feed,
    new_ledger,
    notified,
    placed,
)

HOUR = dt.timedelta(hours=1)


def order_body(shop_order_id: str, locale: str = "en") -> dict[str, Any]:
    """A valid ``POST /v1/orders`` body."""
    return {
        "shop_order_id": shop_order_id,
        "customer_id": "c-77",
        "email": "eva@example.com",
        "customer_name": "Eva",
        "locale": locale,
        "lines": [{"supplier": "acme", "sku": "S1", "name": "Figure", "quantity": 2}],
    }


@dataclass
class Marks:
    """Moments (the ledger's own clock) between the steps of the scenario."""

    before_orders: dt.datetime = NOW
    before_change: dt.datetime = NOW
    after_change: dt.datetime = NOW
    change_ids: dict[str, list[str]] = field(default_factory=dict)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def fill(ledger: Ledger) -> Marks:
    """Three orders, three items, two complete runs with changes, a failed run, a notification,
    a closed order. The second run's scraper reports fewer items (2, on 2 pages) than the ledger
    receives rows (3), and data-quality counts (1 unknown availability, 2 unreadable ETAs, 1
    duplicate SKU); the failed run saved a screenshot. What each view must then show is spelled
    out in the tests."""
    marks = Marks(before_orders=_now())
    await asyncio.sleep(0.002)
    await ledger.handle_command(placed("A-1", {"S1": 2}))
    await ledger.handle_command(placed("A-2", ["S1", "S2"]))
    await ledger.handle_command(placed("A-3", ["S3"]))
    await feed(ledger, RunScript({"S1": "Q2 2027", "S2": "03/2027", "S3": "Q1 2027"}))
    await asyncio.sleep(0.002)
    marks.before_change = _now()
    await asyncio.sleep(0.002)
    await feed(
        ledger,
        RunScript(
            {"S1": "Q3 2027", "S2": "03/2027", "S3": ("Q1 2027", Availability.SOLD_OUT)},
            at=NOW + HOUR,
            items_seen=2,
            pages=2,
            quality=(1, 2, 1),
        ),
    )
    bus = RecordingBus()
    await ledger.relay_once(bus)
    for published in bus.of_type("etawatch.order.eta-changed"):
        order = published.envelope.data.shop_order_id
        marks.change_ids.setdefault(order, []).append(published.envelope.id)
    await ledger.handle_command(notified("A-1", marks.change_ids["A-1"]))
    await ledger.handle_command(closed("A-3"))
    await feed(
        ledger,
        RunScript({}, at=NOW + 2 * HOUR, outcome="failed", artifacts=("acme/login.png",)),
    )
    await asyncio.sleep(0.002)
    marks.after_change = _now()
    return marks


def fill_store(env: dict[str, str]) -> Marks:
    store = LedgerStore(env=env)
    try:
        return asyncio.run(fill(new_ledger(store)))
    finally:
        store.close()


@dataclass
class Keys:
    read: str
    write: str
    both: str

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def make_keys(api: QueryApi) -> Keys:
    return Keys(
        read=create_key(api.keys, {Scope.READ}, "reader"),
        write=create_key(api.keys, {Scope.WRITE}, "writer"),
        both=create_key(api.keys, {Scope.READ, Scope.WRITE}, "shop"),
    )


def make_api(
    ledger_env: dict[str, str],
    views_url: str,
    bus: MessageBus | None = None,
    batch_size: int = 1000,
) -> QueryApi:
    settings = QueryApiSettings(views_url=SecretStr(views_url), projection_batch_size=batch_size)
    return build(settings, bus=bus or InMemoryBus(), ledger_env=ledger_env)


@contextmanager
def client_for(api: QueryApi) -> Iterator[TestClient]:
    with TestClient(create_app(api, run_projector=False), raise_server_exceptions=False) as client:
        yield client


# --- fakes for unit tests ----------------------------------------------------------------------


class MemoryViewStore:
    """``ViewStore`` in memory; ``commit`` is all or nothing, like the SQL one."""

    def __init__(self) -> None:
        self.rows = MemoryRows()
        self.positions: dict[str, int] = {}
        self.generations: dict[str, int] = {}
        self.commits = 0

    def ensure(self, projection: str, tables: Sequence[Table], retired: Sequence[str] = ()) -> bool:
        return False

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()

    def position(self, projection: str) -> int:
        return self.positions.get(projection, 0)

    def generation(self, projection: str) -> int:
        return self.generations.get(projection, 0)

    def load(self, table: Table, key: Key) -> Row | None:
        row = self.rows.get(table, key)
        return copy.deepcopy(row) if row is not None else None

    def load_many(self, table: Table, keys: Sequence[Key]) -> dict[Key, Row]:
        found = {key: self.rows.get(table, key) for key in keys}
        return {key: copy.deepcopy(row) for key, row in found.items() if row is not None}

    def commit(
        self,
        projection: str,
        rows: Mapping[Table, Mapping[Key, Row]],
        changes: Changes,
        position: int,
        generation: int,
    ) -> None:
        if position <= self.positions.get(projection, 0):
            raise PositionTaken(f"{projection} is already at {self.positions[projection]}")
        if generation != self.generation(projection):
            raise PositionTaken(f"{projection} was rebuilt")
        for table, table_rows in rows.items():
            for row in table_rows.values():  # the stored columns only, as in SQL
                self.rows.put(table, copy.deepcopy({c: row[c] for c in table.all_columns}))
        for statement, params in changes:
            self.rows.run_many(statement, params)
        self.positions[projection] = position
        self.commits += 1

    def checksum(self, tables: Sequence[Table]) -> str:
        return json.dumps(
            {t.name: sorted_rows(t, self.rows.rows(t)) for t in tables}, sort_keys=True, default=str
        )

    def position_and_checksum(self, projection: str, tables: Sequence[Table]) -> tuple[int, str]:
        return self.position(projection), self.checksum(tables)

    @contextmanager
    def stage(
        self,
        projections: Mapping[str, Sequence[Table]],
        *,
        cache_rows: int = 1_000_000,  # all in memory here
    ) -> Iterator["MemoryStaged"]:
        yield MemoryStaged(self, projections)


class MemoryStaged(MemoryViewStore):
    """A rebuild's copy: a ``MemoryViewStore`` of its own, copied into the live one by ``swap``."""

    def __init__(self, live: MemoryViewStore, projections: Mapping[str, Sequence[Table]]) -> None:
        super().__init__()
        self.live = live
        self.projections = dict(projections)

    def swap_checked(
        self, behind: Callable[[int], None], check: Mapping[str, Sequence[Table]]
    ) -> tuple[int, dict[str, str]]:
        sums = {name: self.checksum(tables) for name, tables in check.items()}
        return self.swap(behind), sums

    def swap(self, behind: Callable[[int], None]) -> int:
        live = max((self.live.position(name) for name in self.projections), default=0)
        if live > min((self.position(name) for name in self.projections), default=0):
            behind(live)
        position = max((self.position(name) for name in self.projections), default=0)
        for name, tables in self.projections.items():
            for table in tables:
                self.live.rows.drop(table)
                if table.doc:
                    for row in self.rows.rows(table):
                        self.live.rows.put(table, row)
                else:
                    columns = table.all_columns
                    sql = (
                        f"INSERT INTO {table.name} ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' * len(columns))})"
                    )
                    statement = Statement(sql, (table,))
                    values = [tuple(row[c] for c in columns) for row in self.rows.rows(table)]
                    self.live.rows.run_many(statement, values)
            self.live.positions[name] = position
            self.live.generations[name] = self.live.generation(name) + 1
        return position


class ListSource:
    """``EventSource`` over a list of facts numbered from 1."""

    def __init__(self, facts: Sequence[Fact]) -> None:
        self.facts = list(facts)
        self.reads = 0

    def read(self, after: int, limit: int) -> Sequence[tuple[int, Fact | None]]:
        self.reads += 1
        return [(f.seq, f) for f in self.facts if f.seq > after][:limit]

    def head(self) -> int:
        return self.facts[-1].seq if self.facts else 0


async def take_orders(
    url: str, shop_order_ids: set[str], count: int
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Consume the ledger's order queue until ``count`` commands of these orders have come.

    Commands of other orders are put back (other tests share the run's virtual host).
    """
    taken: list[aio_pika.abc.AbstractIncomingMessage] = []
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(LEDGER_ORDERS.name, ensure=True)
        async with queue.iterator(timeout=10) as messages:
            async for message in messages:
                if open_envelope(message.body).subject in shop_order_ids:
                    await message.ack()
                    taken.append(message)
                else:
                    await message.reject(requeue=True)
                if len(taken) == count:
                    break
    return taken


def keyed(table: Table, rows: Sequence[Row]) -> dict[Table, dict[Key, Row]]:
    """``rows`` of ``table`` as ``Target.commit`` takes them."""
    return {table: {table.key_of(row): row for row in rows}}
