"""Per-run PostgreSQL databases and RabbitMQ virtual hosts.

Every test run creates its own database and virtual host with a random name and drops them at
the end, so runs never see each other's data. A service that does not answer fails the test with
a message that says how to start it; nothing is skipped silently.
"""

import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

PG_HOST = os.environ.get("ETAWATCH_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("ETAWATCH_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("ETAWATCH_TEST_PG_USER", "postgres")
AMQP_HOST = os.environ.get("ETAWATCH_TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("ETAWATCH_TEST_AMQP_PORT", "5672"))

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "RabbitMQ": "rabbitmq-server -detached",
}


def require_port(name: str, host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        pytest.fail(
            f"{name} does not answer on {host}:{port} ({exc}). Start it with: {HOW_TO_START[name]}",
            pytrace=False,
        )


@dataclass(frozen=True)
class PostgresDatabase:
    name: str
    host: str = PG_HOST
    port: int = PG_PORT
    user: str = PG_USER

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}"

    @property
    def env(self) -> dict[str, str]:
        """The eventsourcing library's variables for this database."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.name,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": "",
        }


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    )


@contextmanager
def postgres_database(
    prefix: str = "etawatch_test", *, icu_locale: str | None = None
) -> Iterator[PostgresDatabase]:
    """A new database, dropped at the end. ``icu_locale``: its text sorted as in that language
    (such as ``cs-CZ``), not by the server's default."""
    require_port("PostgreSQL", PG_HOST, PG_PORT)
    db = PostgresDatabase(name=f"{prefix}_{uuid.uuid4().hex[:12]}")
    locale = (
        f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'" if icu_locale else ""
    )
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{db.name}"{locale}')
    try:
        yield db
    finally:
        drop_database(db)


def drop_database(db: PostgresDatabase) -> None:
    """Drop the database now, ending every session connected to it (a database that is gone)."""
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def _rabbitmqctl(*args: str) -> str:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        pytest.fail(
            "rabbitmqctl is not on PATH: the tests create a RabbitMQ virtual host per run with it",
            pytrace=False,
        )
    result = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        pytest.fail(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}", pytrace=False)
    return result.stdout


@dataclass(frozen=True)
class RabbitVhost:
    name: str
    host: str = AMQP_HOST
    port: int = AMQP_PORT

    def consumers(self) -> list[dict[str, Any]]:
        """The vhost's consumers as RabbitMQ lists them (queue, channel, prefetch, ...)."""
        out = _rabbitmqctl("list_consumers", "-p", self.name, "--formatter", "json", "--silent")
        found: list[dict[str, Any]] = json.loads(out or "[]")
        return found

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@{self.host}:{self.port}/{self.name}"


@contextmanager
def rabbit_vhost(prefix: str = "etawatch-test") -> Iterator[RabbitVhost]:
    require_port("RabbitMQ", AMQP_HOST, AMQP_PORT)
    vhost = RabbitVhost(name=f"{prefix}-{uuid.uuid4().hex[:12]}")
    _rabbitmqctl("add_vhost", vhost.name)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost.name, "guest", ".*", ".*", ".*")
        yield vhost
    finally:
        _rabbitmqctl("delete_vhost", vhost.name)
