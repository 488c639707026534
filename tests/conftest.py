"""Fixtures for real infrastructure. Each test run gets its own database and virtual host."""

import logging
from collections.abc import Iterator

import pytest
import structlog
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


@pytest.fixture(autouse=True)
def _logging_put_back() -> Iterator[None]:
    """A test that sets logging up (``configure_logging`` into a buffer) leaves it as it found
    it: the root logger's handlers and level, and structlog's configuration."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(**config)
