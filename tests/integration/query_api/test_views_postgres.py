"""The query API over PostgreSQL: the real ledger's store and the views in a per-run database."""

import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest
from etawatch_testing.infra import PostgresDatabase, postgres_database
from etawatch_testing.query_api import fill_store, make_api
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
                for name in (
                    "ledger",
                    "live",
                    "crash",
                    "beside",
                    "failed",
                    "wrong",
                    "racing_ledger",
                    "racing",
                    "racing_fresh",
                )
            }
            yield

    @classmethod
    def ledger_env(cls) -> dict[str, str]:
        return cls.databases["ledger"].env

    @classmethod
    def views_url(cls, name: str) -> str:
        return cls.databases[name].url

    @classmethod
    def store_env(cls, name: str) -> dict[str, str]:
        return cls.databases[name].env


def test_the_projector_reads_the_ledger_with_a_role_that_may_only_select(
    pg_database: PostgresDatabase,
) -> None:
    fill_store(pg_database.env)
    role = f"qa_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database.url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        with postgres_database("etawatch_test_qa") as views:
            api = make_api({**pg_database.env, "POSTGRES_USER": role}, views.url)
            try:
                assert api.project_once_sync() == api.source.head() > 0
                as_reader = pg_database.url.replace(f"{pg_database.user}@", f"{role}@")
                with (
                    psycopg.connect(as_reader) as conn,
                    pytest.raises(psycopg.errors.InsufficientPrivilege),
                ):
                    conn.execute("DELETE FROM ledger_events")  # the role it read with cannot write
            finally:
                api.close()
    finally:
        with psycopg.connect(pg_database.url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
