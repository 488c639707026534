"""The database preparation Job's SQL, run with psql against a real PostgreSQL: each role can
do what its service must and nothing more, a second run changes nothing, a missing password
stops it before anything is created."""

import importlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from etawatch_testing.deploy import K8S, SERVICES, find, render, until_built
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


@pytest.mark.parametrize("table", ["probe_events", "public.probe_events"])
def test_ledger_writes_its_tables_and_the_reader_reads_them(prepared: Prepared, table: str) -> None:
    """Unqualified tables land in the ledger's schema; eventsourcing's, qualified with
    POSTGRES_SCHEMA (``public`` by default), in public: the reader reads both."""
    roles = prepared.roles
    with connect(prepared.db, roles.ledger) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("ledger",)
        conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, body text)")
        conn.execute(f"INSERT INTO {table} (body) VALUES ('first')")
    with connect(prepared.db, roles.reader) as conn:
        assert conn.execute(f"SELECT body FROM {table}").fetchall() == [("first",)]


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
    "CREATE ROLE sneaky",
    "CREATE DATABASE sneaky",
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
    with (
        connect(prepared.db, getattr(prepared.roles, role)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(f"CREATE TABLE {other}.sneaky (x int)")


def test_tables_in_public_stay_their_owners(prepared: Prepared) -> None:
    """The query API's tables in public: the ledger and notifier cannot write them, the reader
    cannot read them, and the reader creates nothing there."""
    roles = prepared.roles
    with connect(prepared.db, roles.query) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.views_tracking (position bigint)")
    for role in (roles.ledger, roles.notifier):
        with connect(prepared.db, role) as conn:
            for statement in (
                "INSERT INTO public.views_tracking VALUES (1)",
                "DROP TABLE public.views_tracking",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    with connect(prepared.db, roles.reader) as conn:
        for statement in (
            "SELECT * FROM public.views_tracking",
            "CREATE TABLE public.sneaky (x int)",
        ):
            with pytest.raises(
                (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
            ):
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


def url(db: PostgresDatabase, role: str) -> str:
    return f"postgresql://{role}:unused-with-trust@{db.host}:{db.port}/{db.name}"


@until_built(next(s for s in SERVICES if s.name == "query-api"), strict=True)
@until_built(next(s for s in SERVICES if s.name == "ledger"), strict=True)
def test_the_services_own_stores_run_on_the_prepared_database(prepared: Prepared) -> None:
    """The ledger's event store (eventsourcing) creates its tables as the ledger's role and
    takes the relay lease (an advisory lock), the query API reads it through the read-only role
    and keeps its views as its own role."""
    aggregate = importlib.import_module("eventsourcing.domain").Aggregate
    ledger_config = importlib.import_module("etawatch.ledger.config")
    ledger_store = importlib.import_module("etawatch.ledger.application.store")
    advisory_lease = importlib.import_module("etawatch.ledger.adapters.advisory_lease")
    query_config = importlib.import_module("etawatch.query_api.config")
    ledger_events = importlib.import_module("etawatch.query_api.adapters.ledger_events")
    query_bootstrap = importlib.import_module("etawatch.query_api.bootstrap")
    db, roles = prepared.db, prepared.roles

    store = ledger_store.LedgerStore(env=ledger_config.event_store_env(url(db, roles.ledger)))
    store.save(aggregate())
    lease = advisory_lease.relay_lease(store)
    assert lease.held(), "the ledger's role takes the relay lease"
    lease.release()
    settings = query_config.QueryApiSettings(
        database_url=url(db, roles.reader), views_url=url(db, roles.query)
    )
    source = ledger_events.LedgerEventSource(settings.ledger_env())
    assert source.head() >= 1, "the reader sees what the ledger stored"
    views = query_bootstrap.open_views(settings)
    assert views is not None


@until_built(next(s for s in SERVICES if s.name == "notifier"), strict=True)
async def test_the_notifiers_store_runs_in_its_schema(prepared: Prepared) -> None:
    database = importlib.import_module("etawatch.notifier.adapters.sql.database")
    notifier_store = importlib.import_module("etawatch.notifier.adapters.sql.store")
    db, roles = prepared.db, prepared.roles
    store = notifier_store.SqlNotifierStore(database.open_database(url(db, roles.notifier)))
    try:
        await store.create_tables()
    finally:
        await store.close()
    with connect(db, db.user) as conn:
        schemas = conn.execute(
            "SELECT DISTINCT schemaname FROM pg_tables WHERE tableowner = %s", (roles.notifier,)
        ).fetchall()
    assert schemas == [("notifier",)]
