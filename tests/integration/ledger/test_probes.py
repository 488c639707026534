"""``etawatch-ledger run`` as its own process: ``/healthz``, ``/readyz`` and ``/metrics``.

What is tried: PostgreSQL and RabbitMQ each reached through a loopback proxy that is closed
(a closed port: the database, then the broker, goes away) and opened again. Readiness must
turn 503 naming what failed, and 200 again once it is back; liveness must stay 200 all along,
so that a dead dependency never gets the pod restarted.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from etawatch_testing.infra import PostgresDatabase, RabbitVhost, postgres_database, rabbit_vhost
from etawatch_testing.ledger import TcpProxy
from etawatch_testing.probes import clean_env, failing, ready, running_service, script

pytestmark = pytest.mark.integration


@pytest.fixture
def infra() -> Iterator[tuple[PostgresDatabase, RabbitVhost]]:
    """A database and a virtual host of this test's own: nobody else reads its queues."""
    with (
        postgres_database("etawatch_ledger_probes") as db,
        rabbit_vhost("etawatch-ledger-probes") as vhost,
    ):
        yield db, vhost


async def test_readiness_follows_the_database_and_the_broker_liveness_does_not(
    infra: tuple[PostgresDatabase, RabbitVhost], tmp_path: Path
) -> None:
    """Bad input: the event store's port closed, then the broker's port closed."""
    db, vhost = infra
    pg, amqp = TcpProxy(db.host, db.port), TcpProxy(vhost.host, vhost.port)
    await pg.open()
    await amqp.open()
    env = clean_env(
        ETAWATCH_DATABASE_URL=f"postgresql://{db.user}@127.0.0.1:{pg.port}/{db.name}",
        ETAWATCH_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{amqp.port}/{vhost.name}",
        ETAWATCH_DATA_DIR=str(tmp_path),
        ETAWATCH_READINESS_TIMEOUT_SECONDS="1",
        ETAWATCH_LOG_FORMAT="json",
        POSTGRES_CONNECT_TIMEOUT="2",
    )
    args = (script("etawatch-ledger"), "run")
    try:
        async with running_service(args, env, tmp_path / "ledger.log") as ledger:
            await ledger.comes_up(metric="etawatch_ledger_observations_total")

            await pg.close()
            down = await ledger.probe_until("/readyz", failing("store"), within=30)
            assert down.json()["ready"] is False
            assert down.json()["checks"]["broker"] == "ok"
            assert (await ledger.get("/healthz")).status_code == 200
            await pg.open()
            await ledger.probe_until("/readyz", ready, within=60)

            await amqp.close()
            down = await ledger.probe_until("/readyz", failing("broker"), within=30)
            assert down.json()["checks"]["store"] == "ok"
            assert (await ledger.get("/healthz")).status_code == 200
            await amqp.open()
            await ledger.probe_until("/readyz", ready, within=60)
        assert ledger.process.returncode == 0, ledger.output()
    finally:
        await pg.close()
        await amqp.close()
