"""The send log and pending changes, written once and run against SQLite and PostgreSQL."""

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from etawatch_testing.infra import PostgresDatabase
from etawatch_testing.notifier import NOW, PRE, FakeClock, RecordingTransport, change, notifier

from etawatch.contracts.envelope import to_json
from etawatch.contracts.messages import NotificationFailureReason
from etawatch.notifier.adapters.sql.database import open_database
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.ports import (
    NotificationKind,
    Outgoing,
    SendStatus,
    StaleClaim,
)
from etawatch.notifier.application.service import NotifierService
from etawatch.notifier.domain.digest import plan_order
from etawatch.notifier.domain.model import PendingChange
from etawatch.notifier.domain.policy import NotificationPolicy

pytestmark = pytest.mark.integration

TABLES = ("notifier_pending_changes", "notifier_baselines", "notifier_send_log")
WINDOW = dt.timedelta(minutes=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/notifier.db"
    pg: PostgresDatabase = request.getfixturevalue("pg_database")
    with psycopg.connect(pg.url, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return pg.url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlNotifierStore]:
    opened = SqlNotifierStore(open_database(database_url))
    await opened.create_tables()
    await opened.create_tables()  # creating twice is harmless
    try:
        yield opened
    finally:
        await opened.close()


def pending(order: str = "O-1", **kwargs: object) -> tuple[PendingChange, str]:
    envelope = change(order=order, after=(PRE, "01/2028"), **kwargs)  # type: ignore[arg-type]
    return PendingChange(envelope.id, NOW, envelope.data), to_json(envelope).decode()


def outgoing(nid: str, created_at: dt.datetime = NOW) -> Outgoing:
    return Outgoing(
        notification_id=nid,
        kind=NotificationKind.CUSTOMER,
        recipient="jana@example.com",
        sender="objednavky@figurky.example",
        subject="Objednávka O-1",
        message_id=f"<{nid}@figurky.example>",
        change_ids=("c-1",),
        raw=b"Subject: x\r\n\r\nbody\r\n",
        created_at=created_at,
        queued_at=created_at,
        shop_order_id="O-1",
        customer_id="customer-1",
        locale="cs",
    )


async def test_pending_changes_are_stored_once_and_read_back(store: SqlNotifierStore) -> None:
    change_, raw = pending()
    assert await store.add_pending(change_, raw)
    assert not await store.add_pending(change_, raw)
    [back] = await store.pending_of("O-1")
    assert back == change_
    assert await store.due_orders(NOW - dt.timedelta(seconds=1)) == []
    assert await store.due_orders(NOW) == ["O-1"]


async def test_a_plan_is_committed_once_and_a_stale_one_writes_nothing(
    store: SqlNotifierStore,
) -> None:
    change_, raw = pending()
    await store.add_pending(change_, raw)
    plan = plan_order("O-1", await store.pending_of("O-1"), {}, NotificationPolicy())
    await store.commit_plan(plan, outgoing("n-1"))
    assert await store.pending_of("O-1") == []
    assert len(await store.baselines_of("O-1")) == 1
    with pytest.raises(StaleClaim):
        await store.commit_plan(plan, outgoing("n-2"))
    assert await store.get("n-2") is None
    assert not await store.add_pending(change_, raw)  # a replay after it was told


async def test_baselines_keep_when_their_newest_change_was_observed(
    store: SqlNotifierStore,
) -> None:
    change_, raw = pending(observed_at=NOW - dt.timedelta(minutes=5))
    await store.add_pending(change_, raw)
    plan = plan_order("O-1", await store.pending_of("O-1"), {}, NotificationPolicy())
    await store.commit_plan(plan, outgoing("n-1"))
    [baseline] = (await store.baselines_of("O-1")).values()
    assert baseline.as_of == NOW - dt.timedelta(minutes=5)


async def test_a_database_from_before_gets_the_new_column_and_keeps_its_rows(
    database_url: str,
) -> None:
    old = SqlNotifierStore(open_database(database_url))
    async with old.db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE notifier_baselines (shop_order_id TEXT NOT NULL, supplier TEXT NOT NULL,"
            " sku TEXT NOT NULL, state TEXT NOT NULL, held_change_ids TEXT NOT NULL,"
            " PRIMARY KEY (shop_order_id, supplier, sku))"
        )
        await tx.execute(
            "INSERT INTO notifier_baselines VALUES ('O-1', 'acme', 'FIG-1', ?, '[]')",
            ('{"availability": "pre_order", "eta": {"raw": "Q2 2027"}}',),
        )
    await old.create_tables()
    [baseline] = (await old.baselines_of("O-1")).values()
    assert baseline.as_of is None
    assert baseline.state.eta.raw == "Q2 2027"
    await old.close()


async def test_a_claim_is_a_lease(store: SqlNotifierStore) -> None:
    assert await store.queue(outgoing("n-1"))
    assert not await store.queue(outgoing("n-1"))
    lease = NOW + dt.timedelta(minutes=5)
    [claimed] = await store.claim_sendable(NOW, lease, 10)
    assert claimed.attempts == 1
    assert claimed.raw == b"Subject: x\r\n\r\nbody\r\n"
    assert await store.claim_sendable(NOW, lease, 10) == []
    [again] = await store.claim_sendable(lease, lease + dt.timedelta(minutes=5), 10)
    assert again.attempts == 2


async def test_finished_messages_drop_their_body_and_are_published_once(
    store: SqlNotifierStore,
) -> None:
    await store.queue(outgoing("n-1"))
    await store.queue(outgoing("n-2"))
    await store.mark_sent("n-1", NOW)
    await store.mark_failed("n-2", NotificationFailureReason.PERMANENT_REJECTION, "554", NOW)
    sent, failed = await store.get("n-1"), await store.get("n-2")
    assert sent is not None
    assert failed is not None
    assert (sent.status, sent.raw, sent.finished_at) == (SendStatus.SENT, b"", NOW)
    assert failed.failure_reason is NotificationFailureReason.PERMANENT_REJECTION
    assert {o.notification_id for o in await store.unpublished(10)} == {"n-1", "n-2"}
    await store.mark_published("n-1")
    assert [o.notification_id for o in await store.unpublished(10)] == ["n-2"]


async def test_two_workers_on_one_database_send_each_change_once(database_url: str) -> None:
    stores = [SqlNotifierStore(open_database(database_url)) for _ in range(2)]
    for s in stores:
        await s.create_tables()
    transport = RecordingTransport()
    first, second = [await notifier(store=s, transport=transport) for s in stores]
    for n in range(20):
        await first.handle(change(order=f"O-{n}", after=(PRE, "01/2028")))
    results = await asyncio.gather(first.flush_due(NOW + WINDOW), second.flush_due(NOW + WINDOW))
    assert sum(len(r) for r in results) == 20
    assert len(transport.sent) == 20
    assert len({s.raw for s in transport.sent}) == 20
    for s in stores:
        await s.close()


# --- retention ---------------------------------------------------------------------------------

RETENTION = dt.timedelta(days=400)
LATER = NOW + dt.timedelta(days=500)  # the old rows are 500 days old, the new ones recent


async def row_counts(store: SqlNotifierStore) -> dict[str, int]:
    counts = {}
    async with store.db.transaction() as tx:
        for table in TABLES:
            [(count,)] = await tx.fetchall(f"SELECT COUNT(*) FROM {table}")
            counts[table] = int(count)
    return counts


def pruned_metric(service: NotifierService) -> float | None:
    return service.metrics.registry.get_sample_value(
        "etawatch_notifier_pruned_rows_total", {"table": "notifier_send_log"}
    )


async def test_prune_deletes_only_old_finished_rows(store: SqlNotifierStore) -> None:
    clock = FakeClock()
    transport = RecordingTransport()
    service = await notifier(store=store, transport=transport, clock=clock)
    told_old = change(order="OLD", after=(PRE, "01/2028"))
    await service.handle(told_old)
    await service.handle(change(order="OPEN", after=(PRE, "01/2028")))
    await service.handle(change(order="HELD", after=(PRE, "17. 3. 2027")))  # a small slip, held
    await service.flush_due(clock.advance(minutes=31))
    assert len(transport.sent) == 2

    clock.current = LATER
    told_new = change(order="NEW", after=(PRE, "01/2028"), observed_at=LATER)
    await service.handle(told_new)
    await service.flush_due(clock.advance(minutes=31))
    assert len(transport.sent) == 3
    # Unfinished, whatever their age: a change in its window (its order's old baseline stays
    # too), a leased message, a finished one whose outcome is not yet published.
    await service.handle(change(order="OPEN", after=(PRE, "03/2028"), observed_at=clock.now()))
    leased_id, unpublished_id, failed_id = (str(uuid.uuid4()) for _ in range(3))
    for nid in (leased_id, unpublished_id, failed_id):
        await store.queue(outgoing(nid, created_at=NOW))
    await store.mark_sent(unpublished_id, NOW)
    await store.mark_failed(failed_id, NotificationFailureReason.INVALID_ADDRESS, "bad", NOW)
    await store.mark_published(failed_id)
    [leased] = await store.claim_sendable(clock.now(), clock.now() + WINDOW, 10)
    assert leased.notification_id == leased_id

    before = await row_counts(store)
    assert before == {
        "notifier_pending_changes": 5,
        "notifier_baselines": 4,
        "notifier_send_log": 6,
    }
    expected = {"notifier_send_log": 3, "notifier_pending_changes": 3, "notifier_baselines": 1}
    assert await service.prune(RETENTION, dry_run=True) == expected
    assert await row_counts(store) == before
    assert pruned_metric(service) is None

    assert await service.prune(RETENTION) == expected
    assert await row_counts(store) == {t: before[t] - expected[t] for t in TABLES}
    assert pruned_metric(service) == 3
    assert await service.prune(RETENTION) == dict.fromkeys(expected, 0)
    assert set((await store.baselines_of("OPEN")) | (await store.baselines_of("HELD")))
    assert len(await store.pending_of("OPEN")) == 1
    leased_after = await store.get(leased_id)
    assert leased_after is not None
    assert leased_after.status is SendStatus.SENDING
    assert await store.get(unpublished_id) is not None
    assert await store.get(failed_id) is None

    # A change redelivered within the retention is still recognised: not told twice.
    await service.handle(told_new)
    await service.flush_due(clock.advance(hours=1))
    assert len(transport.sent) == 5  # OPEN's new change, and the leased message after its lease
    # The documented trade-off: one redelivered after its rows were pruned is told again.
    await service.handle(told_old)
    await service.flush_due(clock.advance(hours=1))
    assert len(transport.sent) == 6


async def test_prune_deletes_in_batches(store: SqlNotifierStore) -> None:
    for n in range(7):
        await store.queue(outgoing(f"n-{n}"))
        await store.mark_sent(f"n-{n}", NOW)
        await store.mark_published(f"n-{n}")
    counts = await store.prune(LATER, batch_size=3)
    assert counts["notifier_send_log"] == 7
    assert (await row_counts(store))["notifier_send_log"] == 0
