"""Fixtures for real infrastructure. Each test run gets its own database and virtual host."""

from collections.abc import Iterator

import pytest
from etawatch_testing.infra import PostgresDatabase, RabbitVhost, postgres_database, rabbit_vhost


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PostgresDatabase]:
    """A PostgreSQL database of this test run, dropped at the end."""
    with postgres_database() as db:
        yield db


@pytest.fixture(scope="session")
def rabbit() -> Iterator[RabbitVhost]:
    """A RabbitMQ virtual host of this test run, deleted at the end."""
    with rabbit_vhost() as vhost:
        yield vhost
