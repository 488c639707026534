"""The notifier's tables: pending changes, what each customer knows, and the send log.

A change id stays known after it was told, so a replayed ``ETAChanged`` is recognised and
ignored; only ``prune`` deletes, and only finished rows older than the retention (see
``FINISHED``). A message's body is kept only until it is sent or given up on.
"""

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg

from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import open_as
from etawatch.contracts.eta import ETA
from etawatch.contracts.messages import ETAChanged, NotificationFailureReason
from etawatch.notifier.adapters.sql.database import Database, Row, Transaction
from etawatch.notifier.application.ports import (
    NotificationKind,
    Outgoing,
    SendStatus,
    StaleClaim,
)
from etawatch.notifier.domain.model import (
    Baseline,
    FlushPlan,
    ItemKey,
    ItemState,
    PendingChange,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifier_pending_changes (
    change_id TEXT PRIMARY KEY,
    shop_order_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    envelope TEXT NOT NULL,
    status TEXT NOT NULL,
    consumed_by TEXT
);
CREATE INDEX IF NOT EXISTS notifier_pending_open
    ON notifier_pending_changes (status, shop_order_id, received_at);
CREATE TABLE IF NOT EXISTS notifier_baselines (
    shop_order_id TEXT NOT NULL,
    supplier TEXT NOT NULL,
    sku TEXT NOT NULL,
    state TEXT NOT NULL,
    held_change_ids TEXT NOT NULL,
    PRIMARY KEY (shop_order_id, supplier, sku)
);
CREATE TABLE IF NOT EXISTS notifier_send_log (
    notification_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    change_ids TEXT NOT NULL,
    message {blob} NOT NULL,
    created_at TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    shop_order_id TEXT,
    customer_id TEXT,
    locale TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    finished_at TEXT,
    failure_reason TEXT,
    detail TEXT,
    next_attempt_at TEXT NOT NULL,
    published INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notifier_send_log_due ON notifier_send_log (status, next_attempt_at);
"""
# Columns added after the first release: databases created before get them on start.
ADDED_COLUMNS = (("notifier_baselines", "as_of TEXT"),)

_COLUMNS = (
    "notification_id, kind, recipient, sender, subject, message_id, change_ids, message, "
    "created_at, queued_at, shop_order_id, customer_id, locale, status, attempts, finished_at, "
    "failure_reason, detail"
)


# What ``prune`` may delete, per table, older than a cutoff (the one ``?``). Nothing pending or in
# flight: a send-log row only when sent or given up on and its outcome published; a change only
# once consumed and its message (if any) is in no such unfinished row; a baseline only without
# held changes and without a pending change of its order. Statuses never go back, so a row that
# matches stays finished; PostgreSQL re-checks these conditions on a row changed meanwhile.
FINISHED = {
    "notifier_send_log": (
        "notification_id",
        "status IN ('sent', 'failed') AND published = 1 AND finished_at < ?",
    ),
    "notifier_pending_changes": (
        "change_id",
        "status = 'consumed' AND received_at < ? AND NOT EXISTS (SELECT 1 FROM notifier_send_log"
        " s WHERE s.notification_id = notifier_pending_changes.consumed_by"
        " AND (s.status = 'sending' OR s.published = 0))",
    ),
    "notifier_baselines": (
        "shop_order_id, supplier, sku",
        "as_of < ? AND held_change_ids = '[]' AND NOT EXISTS (SELECT 1 FROM"
        " notifier_pending_changes p WHERE p.shop_order_id = notifier_baselines.shop_order_id"
        " AND p.status = 'pending')",
    ),
}


def ts(moment: dt.datetime) -> str:
    """A sortable text timestamp in UTC: comparisons in SQL are string comparisons."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _moment(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _state_json(state: ItemState) -> str:
    return json.dumps(
        {"availability": state.availability.value, "eta": state.eta.model_dump(mode="json")}
    )


def _state(text: str) -> ItemState:
    raw = json.loads(text)
    return ItemState(Availability(raw["availability"]), ETA.model_validate(raw["eta"]))


def _outgoing(row: Row) -> Outgoing:
    (nid, kind, recipient, sender, subject, message_id, change_ids, message, created_at,
     queued_at, shop_order_id, customer_id, locale, status, attempts, finished_at,
     failure_reason, detail) = row  # fmt: skip
    return Outgoing(
        notification_id=nid,
        kind=NotificationKind(kind),
        recipient=recipient,
        sender=sender,
        subject=subject,
        message_id=message_id,
        change_ids=tuple(json.loads(change_ids)),
        raw=bytes(message),
        created_at=dt.datetime.fromisoformat(created_at),
        queued_at=dt.datetime.fromisoformat(queued_at),
        shop_order_id=shop_order_id,
        customer_id=customer_id,
        locale=locale,
        status=SendStatus(status),
        attempts=attempts,
        finished_at=_moment(finished_at),
        failure_reason=None
        if failure_reason is None
        else NotificationFailureReason(failure_reason),
        detail=detail,
    )


class SqlNotifierStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_tables(self) -> None:
        async with self.db.transaction() as tx:
            for statement in SCHEMA.format(blob=self.db.blob_type).split(";"):
                if statement.strip():
                    await tx.execute(statement)
        for table, column in ADDED_COLUMNS:
            try:
                async with self.db.transaction() as tx:
                    await tx.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            except psycopg.errors.DuplicateColumn:
                pass
            except sqlite3.OperationalError as exc:
                if "duplicate column" not in str(exc):
                    raise

    async def ping(self) -> None:
        """Readiness: the send log's database answers."""
        await self.db.ping()

    async def close(self) -> None:
        await self.db.close()

    async def prune(
        self, before: dt.datetime, *, dry_run: bool = False, batch_size: int = 1000
    ) -> dict[str, int]:
        """Delete finished rows older than ``before``, table by table, ``batch_size`` rows per
        transaction (short locks); with ``dry_run`` only count them. Rows deleted per table."""
        counts: dict[str, int] = {}
        for table, (key, finished) in FINISHED.items():
            if dry_run:
                async with self.db.transaction() as tx:
                    rows = await tx.fetchall(
                        f"SELECT COUNT(*) FROM {table} WHERE {finished}",  # noqa: S608
                        (ts(before),),
                    )
                counts[table] = int(rows[0][0])
                continue
            delete = (
                f"DELETE FROM {table} WHERE ({key}) IN"  # noqa: S608 - constants only
                f" (SELECT {key} FROM {table} WHERE {finished} LIMIT ?) AND {finished}"
            )
            counts[table] = 0
            while True:
                async with self.db.transaction() as tx:
                    deleted = await tx.execute(delete, (ts(before), batch_size, ts(before)))
                counts[table] += deleted
                if deleted < batch_size:
                    break
        return counts

    # --- pending changes ---------------------------------------------------------------------

    async def add_pending(self, change: PendingChange, envelope_json: str) -> bool:
        async with self.db.transaction() as tx:
            added = await tx.execute(
                "INSERT INTO notifier_pending_changes"
                " (change_id, shop_order_id, received_at, envelope, status)"
                " VALUES (?, ?, ?, ?, 'pending') ON CONFLICT (change_id) DO NOTHING",
                (change.change_id, change.change.shop_order_id, ts(change.received_at),
                 envelope_json),
            )  # fmt: skip
        return added == 1

    async def due_orders(self, received_before: dt.datetime) -> list[str]:
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT shop_order_id FROM notifier_pending_changes WHERE status = 'pending'"
                " GROUP BY shop_order_id HAVING MIN(received_at) <= ?"
                " ORDER BY MIN(received_at)",
                (ts(received_before),),
            )
        return [row[0] for row in rows]

    async def pending_of(self, shop_order_id: str) -> list[PendingChange]:
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT change_id, received_at, envelope FROM notifier_pending_changes"
                " WHERE shop_order_id = ? AND status = 'pending' ORDER BY received_at, change_id",
                (shop_order_id,),
            )
        return [
            PendingChange(cid, dt.datetime.fromisoformat(at), open_as(body, ETAChanged).data)
            for cid, at, body in rows
        ]

    async def baselines_of(self, shop_order_id: str) -> dict[ItemKey, Baseline]:
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT supplier, sku, state, held_change_ids, as_of FROM notifier_baselines"
                " WHERE shop_order_id = ?",
                (shop_order_id,),
            )
        return {
            ItemKey(shop_order_id, supplier, sku): Baseline(
                _state(state), tuple(json.loads(held)), _moment(as_of)
            )
            for supplier, sku, state, held, as_of in rows
        }

    async def commit_plan(self, plan: FlushPlan, outgoing: Outgoing | None) -> None:
        consumed_by = outgoing.notification_id if outgoing else None
        async with self.db.transaction() as tx:
            marks = ", ".join("?" for _ in plan.consumed)
            consume = f"UPDATE notifier_pending_changes SET status = 'consumed', consumed_by = ? WHERE status = 'pending' AND change_id IN ({marks})"  # noqa: E501, S608 - only ?s
            taken = await tx.execute(consume, (consumed_by, *plan.consumed))
            if taken != len(plan.consumed):
                raise StaleClaim(plan.shop_order_id)
            for key, baseline in plan.baselines.items():
                await tx.execute(
                    "INSERT INTO notifier_baselines"
                    " (shop_order_id, supplier, sku, state, held_change_ids, as_of)"
                    " VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (shop_order_id, supplier, sku) DO UPDATE"
                    " SET state = excluded.state, held_change_ids = excluded.held_change_ids,"
                    " as_of = excluded.as_of",
                    (key.shop_order_id, key.supplier, key.sku, _state_json(baseline.state),
                     json.dumps(list(baseline.held_change_ids)),
                     None if baseline.as_of is None else ts(baseline.as_of)),
                )  # fmt: skip
            if outgoing is not None and not await self._insert(tx, outgoing):
                raise StaleClaim(plan.shop_order_id)

    # --- send log ----------------------------------------------------------------------------

    async def queue(self, outgoing: Outgoing) -> bool:
        async with self.db.transaction() as tx:
            return await self._insert(tx, outgoing)

    async def _insert(self, tx: Transaction, out: Outgoing) -> bool:
        published = 1 if out.kind is NotificationKind.OPERATOR else 0
        added = await tx.execute(
            f"INSERT INTO notifier_send_log ({_COLUMNS}, next_attempt_at, published)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (notification_id) DO NOTHING",
            (out.notification_id, out.kind.value, out.recipient, out.sender, out.subject,
             out.message_id, json.dumps(list(out.change_ids)), out.raw, ts(out.created_at),
             ts(out.queued_at), out.shop_order_id, out.customer_id, out.locale, out.status.value,
             out.attempts, None if out.finished_at is None else ts(out.finished_at),
             None if out.failure_reason is None else out.failure_reason.value, out.detail,
             ts(out.created_at), published),
        )  # fmt: skip
        return added == 1

    async def claim_sendable(
        self, now: dt.datetime, lease_until: dt.datetime, limit: int
    ) -> list[Outgoing]:
        async with self.db.transaction() as tx:
            due = await tx.fetchall(
                "SELECT notification_id FROM notifier_send_log"
                " WHERE status = 'sending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, notification_id LIMIT ?",
                (ts(now), limit),
            )
            claimed: list[Outgoing] = []
            for (nid,) in due:
                taken = await tx.execute(
                    "UPDATE notifier_send_log SET next_attempt_at = ?, attempts = attempts + 1"
                    " WHERE notification_id = ? AND status = 'sending' AND next_attempt_at <= ?",
                    (ts(lease_until), nid, ts(now)),
                )
                if taken == 1:
                    rows = await tx.fetchall(
                        f"SELECT {_COLUMNS} FROM notifier_send_log WHERE notification_id = ?",  # noqa: S608
                        (nid,),
                    )
                    claimed.append(_outgoing(rows[0]))
        return claimed

    async def mark_sent(self, notification_id: str, at: dt.datetime) -> None:
        await self._update(
            "status = 'sent', finished_at = ?, message = ?, detail = NULL",
            (ts(at), b""),
            notification_id,
        )

    async def mark_failed(
        self,
        notification_id: str,
        reason: NotificationFailureReason,
        detail: str,
        at: dt.datetime,
    ) -> None:
        await self._update(
            "status = 'failed', finished_at = ?, message = ?, failure_reason = ?, detail = ?",
            (ts(at), b"", reason.value, detail[:1000]),
            notification_id,
        )

    async def retry_later(self, notification_id: str, at: dt.datetime, detail: str) -> None:
        await self._update(
            "next_attempt_at = ?, detail = ?", (ts(at), detail[:1000]), notification_id
        )

    async def unpublished(self, limit: int) -> list[Outgoing]:
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                f"SELECT {_COLUMNS} FROM notifier_send_log"  # noqa: S608
                " WHERE status IN ('sent', 'failed') AND published = 0"
                " ORDER BY finished_at, notification_id LIMIT ?",
                (limit,),
            )
        return [_outgoing(row) for row in rows]

    async def mark_published(self, notification_id: str) -> None:
        await self._update("published = 1", (), notification_id)

    async def get(self, notification_id: str) -> Outgoing | None:
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                f"SELECT {_COLUMNS} FROM notifier_send_log WHERE notification_id = ?",  # noqa: S608
                (notification_id,),
            )
        return _outgoing(rows[0]) if rows else None

    async def _update(self, assignments: str, params: Sequence[Any], notification_id: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE notifier_send_log SET {assignments} WHERE notification_id = ?",  # noqa: S608
                (*params, notification_id),
            )
