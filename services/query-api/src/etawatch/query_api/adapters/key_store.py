# ruff: noqa: S608 - only the parameter marker is formatted into the SQL
"""API keys in the views' database: id, scopes, scrypt hash, label; never the secret."""

import datetime as dt
from typing import Any

from etawatch.query_api.adapters.sql_views import SqlViewStore
from etawatch.query_api.domain.keys import Scope, StoredKey

DDL = (
    "CREATE TABLE IF NOT EXISTS qa_api_keys (key_id TEXT PRIMARY KEY, scopes TEXT NOT NULL, "
    "hash TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)"
)


class SqlKeyStore:
    def __init__(self, views: SqlViewStore) -> None:
        self.views = views
        with views.transaction(commit=True) as cursor:
            cursor.execute(DDL)

    def add(self, key: StoredKey) -> None:
        ph = self.views.ph
        with self.views.transaction(commit=True) as cursor:
            cursor.execute(
                "INSERT INTO qa_api_keys (key_id, scopes, hash, label, created_at) "
                f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph})",
                (
                    key.key_id,
                    ",".join(sorted(key.scopes)),
                    key.hash,
                    key.label,
                    dt.datetime.now(dt.UTC).isoformat(),
                ),
            )

    def get(self, key_id: str) -> StoredKey | None:
        ph = self.views.ph
        with self.views.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT key_id, scopes, hash, label, revoked_at FROM qa_api_keys "
                f"WHERE key_id = {ph}",
                (key_id,),
            )
            row: Any = cursor.fetchone()
        if row is None:
            return None
        return StoredKey(
            key_id=row["key_id"],
            scopes=frozenset(Scope(s) for s in row["scopes"].split(",") if s),
            hash=row["hash"],
            label=row["label"],
            revoked=row["revoked_at"] is not None,
        )

    def revoke(self, key_id: str) -> bool:
        ph = self.views.ph
        with self.views.transaction(commit=True) as cursor:
            cursor.execute(
                f"UPDATE qa_api_keys SET revoked_at = {ph} "
                f"WHERE key_id = {ph} AND revoked_at IS NULL",
                (dt.datetime.now(dt.UTC).isoformat(), key_id),
            )
            return bool(cursor.rowcount)
