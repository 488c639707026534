"""The database preparation Job's SQL, run with psql against a real PostgreSQL: each role can
do what its service must and nothing more, a second run changes nothing, a missing password
stops it before anything is created."""

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
class Roles:
    ledger: str
    reader: str
    query: str
    notifier: str

    @classmethod
    def unique(cls) -> "Roles":
        suffix = uuid.uuid4().hex[:8]
        return cls(*(f"etawatch_test_{what}_{suffix}" for what in ("l", "r", "q", "n")))

    def all(self) -> tuple[str, ...]:
        return (self.reader, self.query, self.notifier, self.ledger)

    def env(self) -> dict[str, str]:
        env = {}
        for key, role in (
            ("LEDGER", self.ledger),
            ("READER", self.reader),
            ("QUERY_API", self.query),
            ("NOTIFIER", self.notifier),
        ):
            env[f"ETAWATCH_{key}_DB_ROLE"] = role
            env[f"ETAWATCH_{key}_DB_PASSWORD"] = f"{key.lower()}-pw"
        return env


@dataclass(frozen=True)
class Prepared:
    db: PostgresDatabase
    roles: Roles


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


def connect(db: PostgresDatabase, user: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(host=db.host, port=db.port, user=user, dbname=db.name, autocommit=True)


def drop_roles(db: PostgresDatabase, *roles: str) -> None:
    with connect(db, db.user) as conn:
        for role in roles:  # one at a time: DROP OWNED BY of several trips over default ACLs
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'DROP OWNED BY "{role}" CASCADE')
        for role in roles:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(scope="module")
def prepared() -> Iterator[Prepared]:
    roles = Roles.unique()
    with postgres_database(prefix="etawatch_deploy") as db:
        try:
            for _ in range(2):  # the Job runs again after every upgrade
                result = run_psql(db, roles.env())
                assert result.returncode == 0, result.stderr
                assert "etawatch database prepared" in result.stdout
            yield Prepared(db, roles)
        finally:
            drop_roles(db, *roles.all())


def test_ledger_writes_its_schema_and_the_reader_reads_it(prepared: Prepared) -> None:
    roles = prepared.roles
    with connect(prepared.db, roles.ledger) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("ledger",)
        conn.execute("CREATE TABLE stored_events (id bigserial PRIMARY KEY, body text)")
        conn.execute("INSERT INTO stored_events (body) VALUES ('first')")
    with connect(prepared.db, roles.reader) as conn:
        assert conn.execute("SELECT body FROM stored_events").fetchall() == [("first",)]


@pytest.mark.parametrize(("role", "schema"), [("query", "query_api"), ("notifier", "notifier")])
def test_service_role_creates_its_tables_in_its_own_schema(
    prepared: Prepared, role: str, schema: str
) -> None:
    with connect(prepared.db, getattr(prepared.roles, role)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS tracking (position bigint)")
        conn.execute("INSERT INTO tracking VALUES (1)")
        where = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'tracking'"
            " AND table_schema = %s",
            (schema,),
        ).fetchall()
        assert where == [(schema,)]


def ensure_event_table(prepared: Prepared) -> None:
    with connect(prepared.db, prepared.roles.ledger) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS stored_events (id bigserial, body text)")


FORBIDDEN = [
    "INSERT INTO ledger.stored_events (body) VALUES ('forged')",
    "UPDATE ledger.stored_events SET body = 'changed'",
    "DELETE FROM ledger.stored_events",
    "TRUNCATE ledger.stored_events",
    "CREATE TABLE ledger.sneaky (x int)",
    "CREATE TABLE public.sneaky (x int)",
    "CREATE ROLE sneaky",
]


@pytest.mark.parametrize("statement", FORBIDDEN)
@pytest.mark.parametrize("role", ["reader", "query", "notifier"])
def test_no_other_role_can_write_the_event_store(
    prepared: Prepared, role: str, statement: str
) -> None:
    ensure_event_table(prepared)
    with (
        connect(prepared.db, getattr(prepared.roles, role)) as conn,
        pytest.raises(
            (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
        ),
    ):
        conn.execute(statement)


@pytest.mark.parametrize(
    ("role", "other"),
    [
        ("ledger", "query_api"),
        ("ledger", "notifier"),
        ("query", "notifier"),
        ("notifier", "query_api"),
    ],
)
def test_roles_cannot_touch_each_others_schemas(prepared: Prepared, role: str, other: str) -> None:
    with connect(prepared.db, getattr(prepared.roles, role)) as conn:
        for statement in (f"CREATE TABLE {other}.sneaky (x int)", "CREATE TABLE public.x (y int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


@pytest.mark.parametrize(
    ("unset", "empty", "reported"),
    [
        (["NOTIFIER"], [], "not set: ETAWATCH_NOTIFIER_DB_PASSWORD"),
        (
            ["LEDGER"],
            ["READER"],
            "not set: ETAWATCH_LEDGER_DB_PASSWORD, ETAWATCH_READER_DB_PASSWORD",
        ),
    ],
)
def test_a_missing_password_stops_before_anything_is_created(
    unset: list[str], empty: list[str], reported: str
) -> None:
    roles = Roles.unique()
    env = roles.env()
    for key in unset:
        del env[f"ETAWATCH_{key}_DB_PASSWORD"]
    for key in empty:
        env[f"ETAWATCH_{key}_DB_PASSWORD"] = ""
    with postgres_database(prefix="etawatch_deploy") as db:
        try:
            result = run_psql(db, env)
            assert result.returncode == 3
            assert reported in result.stderr
            with connect(db, db.user) as conn:
                created = conn.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(roles.all()),)
                ).fetchall()
                schemas = conn.execute(
                    "SELECT nspname FROM pg_namespace"
                    " WHERE nspname IN ('ledger', 'query_api', 'notifier')"
                ).fetchall()
            assert created == [] and schemas == []
        finally:
            drop_roles(db, *roles.all())


def test_the_job_runs_this_very_sql() -> None:
    for overlay in ("dev", "production"):
        resources = render(overlay)
        job = find(resources, "Job", "etawatch-db-prepare")
        volume = next(v for v in job["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
        config_map = find(resources, "ConfigMap", volume["configMap"]["name"])
        assert config_map["data"]["prepare.sql"] == Path(SQL).read_text(encoding="utf-8")
