"""The database preparation Job's SQL, run with psql against a real PostgreSQL: the roles can
do what they must and nothing more, a second run changes nothing, a missing password stops it
before anything is created."""

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from etawatch_testing.deploy import K8S, find, render
from etawatch_testing.infra import PostgresDatabase, postgres_database

pytestmark = pytest.mark.integration

SQL = K8S / "base" / "db-prepare" / "prepare.sql"


@dataclass(frozen=True)
class Prepared:
    db: PostgresDatabase
    ledger: str
    query: str


def run_psql(db: PostgresDatabase, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    psql = shutil.which("psql")
    assert psql, "psql is not on PATH: apt-get install postgresql-client"
    base = {k: v for k, v in os.environ.items() if not k.startswith("ETAWATCH_")}
    return subprocess.run(
        [psql, "--no-psqlrc", f"--file={SQL}"],
        env=base
        | {
            "PGHOST": db.host,
            "PGPORT": str(db.port),
            "PGUSER": db.user,
            "PGDATABASE": db.name,
        }
        | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def role_env(ledger: str, query: str) -> dict[str, str]:
    return {
        "ETAWATCH_LEDGER_DB_ROLE": ledger,
        "ETAWATCH_QUERY_API_DB_ROLE": query,
        "ETAWATCH_LEDGER_DB_PASSWORD": "ledger-pw",
        "ETAWATCH_QUERY_API_DB_PASSWORD": "query-pw",
    }


def connect(db: PostgresDatabase, user: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(host=db.host, port=db.port, user=user, dbname=db.name, autocommit=True)


def drop_roles(db: PostgresDatabase, *roles: str) -> None:
    with connect(db, db.user) as conn:
        for role in roles:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'DROP OWNED BY "{role}" CASCADE')
                conn.execute(f'DROP ROLE "{role}"')


@pytest.fixture(scope="module")
def prepared() -> Iterator[Prepared]:
    suffix = uuid.uuid4().hex[:8]
    ledger, query = f"etawatch_test_ledger_{suffix}", f"etawatch_test_query_{suffix}"
    with postgres_database(prefix="etawatch_deploy") as db:
        try:
            for _ in range(2):  # the Job runs again after every upgrade
                result = run_psql(db, role_env(ledger, query))
                assert result.returncode == 0, result.stderr
                assert "etawatch database prepared" in result.stdout
            yield Prepared(db, ledger, query)
        finally:
            drop_roles(db, ledger, query)


def test_ledger_writes_its_schema_and_query_api_reads_it(prepared: Prepared) -> None:
    with connect(prepared.db, prepared.ledger) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("ledger",)
        conn.execute("CREATE TABLE stored_events (id bigserial PRIMARY KEY, body text)")
        conn.execute("INSERT INTO stored_events (body) VALUES ('first')")
    with connect(prepared.db, prepared.query) as conn:
        rows = conn.execute("SELECT body FROM ledger.stored_events").fetchall()
        assert rows == [("first",)]
        conn.execute("CREATE TABLE tracking (position bigint)")  # lands in query_api
        where = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'tracking'"
        ).fetchone()
        assert where == ("query_api",)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO ledger.stored_events (body) VALUES ('forged')",
        "UPDATE ledger.stored_events SET body = 'changed'",
        "DELETE FROM ledger.stored_events",
        "TRUNCATE ledger.stored_events",
        "CREATE TABLE ledger.sneaky (x int)",
        "CREATE TABLE public.sneaky (x int)",
        "CREATE ROLE sneaky",
    ],
)
def test_query_api_role_cannot_write_the_event_store(prepared: Prepared, statement: str) -> None:
    with connect(prepared.db, prepared.ledger) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS stored_events (id bigserial, body text)")
    with (
        connect(prepared.db, prepared.query) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


def test_ledger_role_cannot_touch_the_projections_or_public(prepared: Prepared) -> None:
    with connect(prepared.db, prepared.ledger) as conn:
        for statement in ("CREATE TABLE public.sneaky (x int)", "CREATE TABLE query_api.x (y int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_missing_password_stops_before_anything_is_created() -> None:
    suffix = uuid.uuid4().hex[:8]
    ledger, query = f"etawatch_test_ledger_{suffix}", f"etawatch_test_query_{suffix}"
    env = role_env(ledger, query)
    del env["ETAWATCH_QUERY_API_DB_PASSWORD"]
    with postgres_database(prefix="etawatch_deploy") as db:
        try:
            result = run_psql(db, env)
            assert result.returncode == 3
            assert "ETAWATCH_QUERY_API_DB_PASSWORD is not set" in result.stderr
            with connect(db, db.user) as conn:
                roles = conn.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname IN (%s, %s)", (ledger, query)
                ).fetchall()
                schemas = conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname IN ('ledger', 'query_api')"
                ).fetchall()
            assert roles == [] and schemas == []
        finally:
            drop_roles(db, ledger, query)


def test_the_job_runs_this_very_sql() -> None:
    for overlay in ("dev", "production"):
        resources = render(overlay)
        job = find(resources, "Job", "etawatch-db-prepare")
        volume = next(v for v in job["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
        config_map = find(resources, "ConfigMap", volume["configMap"]["name"])
        assert config_map["data"]["prepare.sql"] == Path(SQL).read_text(encoding="utf-8")
