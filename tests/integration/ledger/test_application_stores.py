"""The ledger's application tests against SQLite and PostgreSQL (same tests as in memory)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("etawatch_testing.ledger_cases")

from etawatch_testing.infra import PostgresDatabase, postgres_database  # noqa: E402
from etawatch_testing.ledger_cases import LedgerApplicationCases  # noqa: E402

pytestmark = pytest.mark.integration


class TestLedgerOnSQLite(LedgerApplicationCases):
    @pytest.fixture(autouse=True)
    def _database(self, tmp_path: Path) -> None:
        self.path = tmp_path / "ledger.sqlite"

    def env(self) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(self.path)}


class TestLedgerOnPostgreSQL(LedgerApplicationCases):
    @pytest.fixture(autouse=True)
    def _database(self) -> Iterator[None]:
        with postgres_database("etawatch_ledger_test") as db:
            self.db: PostgresDatabase = db
            yield

    def env(self) -> dict[str, str]:
        return self.db.env
