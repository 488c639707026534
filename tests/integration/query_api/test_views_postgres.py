"""The query API over PostgreSQL: the real ledger's store and the views in a per-run database."""

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from etawatch_testing.infra import PostgresDatabase, postgres_database
from etawatch_testing.query_api_cases import QueryApiCases

pytestmark = pytest.mark.integration


class TestOnPostgres(QueryApiCases):
    databases: dict[str, PostgresDatabase]

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _databases(cls) -> Iterator[None]:
        with ExitStack() as stack:
            cls.databases = {
                name: stack.enter_context(postgres_database("etawatch_test_qa"))
                for name in ("ledger", "live", "crash")
            }
            yield

    @classmethod
    def ledger_env(cls) -> dict[str, str]:
        return cls.databases["ledger"].env

    @classmethod
    def views_url(cls, name: str) -> str:
        return cls.databases[name].url
