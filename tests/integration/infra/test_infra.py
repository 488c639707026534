"""The per-run database and virtual host exist, are usable and belong to this run only."""

import asyncio

import psycopg
import pytest
from etawatch_testing.infra import PostgresDatabase, RabbitVhost

pytestmark = pytest.mark.integration


def test_per_run_database_is_usable(pg_database: PostgresDatabase) -> None:
    assert pg_database.name.startswith("etawatch_test_")
    with psycopg.connect(pg_database.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS probe (x int)")
        conn.execute("INSERT INTO probe VALUES (1)")
        row = conn.execute("SELECT count(*) FROM probe").fetchone()
        assert row is not None and row[0] >= 1


def test_per_run_vhost_accepts_connections(rabbit: RabbitVhost) -> None:
    async def connect() -> None:
        reader, writer = await asyncio.open_connection(rabbit.host, rabbit.port)
        writer.write(b"AMQP\x00\x00\x09\x01")
        await writer.drain()
        frame = await asyncio.wait_for(reader.read(7), timeout=5)
        writer.close()
        assert frame[:1] == b"\x01"  # connection.start method frame

    asyncio.run(connect())
    assert rabbit.name.startswith("etawatch-test-")
