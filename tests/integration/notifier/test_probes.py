"""``etawatch-notifier run`` as its own process: ``/healthz``, ``/readyz`` and ``/metrics``.

What is tried: the send log's PostgreSQL database dropped under the running service (every
session to it ended, no new one possible). Readiness must turn 503 naming the store; liveness
must stay 200, so that a dead database never gets the pod restarted.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from etawatch_testing.infra import (
    PostgresDatabase,
    RabbitVhost,
    drop_database,
    postgres_database,
)
from etawatch_testing.probes import clean_env, failing, running_service, script

pytestmark = pytest.mark.integration


@pytest.fixture
def db() -> Iterator[PostgresDatabase]:
    with postgres_database("etawatch_notifier_probes") as database:
        yield database


async def test_readiness_fails_when_the_send_log_database_is_dropped(
    db: PostgresDatabase, vhost: RabbitVhost, tmp_path: Path
) -> None:
    """Bad input: ``DROP DATABASE ... WITH (FORCE)`` of the send log while the notifier runs."""
    env = clean_env(
        ETAWATCH_DATABASE_URL=db.url,
        ETAWATCH_AMQP_URL=vhost.url,
        ETAWATCH_DELIVERY="outbox",
        ETAWATCH_OUTBOX_DIR=str(tmp_path / "outbox"),
        ETAWATCH_FLUSH_INTERVAL_SECONDS="0.5",
        ETAWATCH_READINESS_TIMEOUT_SECONDS="1",
        ETAWATCH_LOG_FORMAT="json",
    )
    args = (script("etawatch-notifier"), "run")
    async with running_service(args, env, tmp_path / "notifier.log") as notifier:
        await notifier.comes_up(metric="etawatch_notifier_sent_total")

        await asyncio.to_thread(drop_database, db)
        down = await notifier.probe_until("/readyz", failing("store"), within=30)
        assert down.json()["ready"] is False
        assert down.json()["checks"]["broker"] == "ok"
        assert down.json()["checks"]["store"] == "failed: OperationalError"
        for _ in range(3):  # a flush or two fail meanwhile; the process stays alive
            assert (await notifier.get("/healthz")).status_code == 200
            await asyncio.sleep(0.5)
    assert notifier.process.returncode == 0, notifier.output()
