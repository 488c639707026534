"""The query API over SQLite files filled by the real ledger (embedded mode)."""

from pathlib import Path

import pytest
from etawatch_testing.query_api_cases import QueryApiCases

pytestmark = pytest.mark.integration


class TestOnSqlite(QueryApiCases):
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _folder(cls, tmp_path_factory: pytest.TempPathFactory) -> None:
        cls.folder = tmp_path_factory.mktemp("query-api")

    folder: Path

    @classmethod
    def ledger_env(cls) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(cls.folder / "ledger.sqlite"),
        }

    @classmethod
    def views_url(cls, name: str) -> str:
        return f"sqlite:///{cls.folder / name}.sqlite"
