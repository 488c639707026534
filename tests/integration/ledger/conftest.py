"""A virtual host, a database and the ledger replicas of one test."""

from collections.abc import AsyncIterator, Iterator

import pytest
from etawatch_testing.infra import PostgresDatabase, RabbitVhost, postgres_database, rabbit_vhost
from etawatch_testing.ledger_stack import Stack, ledger_stack


@pytest.fixture
def ledger_infra() -> Iterator[tuple[RabbitVhost, PostgresDatabase]]:
    with rabbit_vhost("etawatch-ledger") as vhost, postgres_database("etawatch_ledger") as db:
        yield vhost, db


@pytest.fixture
async def stack(ledger_infra: tuple[RabbitVhost, PostgresDatabase]) -> AsyncIterator[Stack]:
    async with ledger_stack(*ledger_infra) as opened:
        yield opened
