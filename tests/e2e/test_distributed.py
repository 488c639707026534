"""The same scenario with every service as its own process over real RabbitMQ, PostgreSQL and SMTP.

`etawatch up` starts the ledger, the notifier and the query API as separate processes; the test
acts as the shop (orders through the REST API) and as the cron job (`etawatch-scraper once`
between moves of the simulated portal's clock), and checks the emails a real SMTP server on
loopback received against the portal's ground truth: each affected order told once, in one
email naming each changed item, and nothing else.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from etawatch_testing.infra import (
    PostgresDatabase,
    RabbitVhost,
    postgres_database,
    rabbit_vhost,
)
from etawatch_testing.portal import PASSWORD, USERNAME, running_portal
from etawatch_testing.smtp import SmtpServer, free_port, smtp_server

from etawatch.allinone.orders import plan_orders
from etawatch.demo.portal import PortalServer

pytestmark = pytest.mark.e2e
ITEMS, SEED, DAYS = 150, 11, 7


def script(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed: run `uv sync`"
    return found


@pytest.fixture
def rabbit() -> Iterator[RabbitVhost]:
    """A virtual host of this test alone: the session's holds what earlier tests published on
    the scrape exchange (runs of the same supplier), which `etawatch up`'s ledger would read."""
    with rabbit_vhost() as vhost:
        yield vhost


@pytest.fixture
def pg_database() -> Iterator[PostgresDatabase]:
    """A database of this test alone, for the same reason: an empty event store."""
    with postgres_database() as db:
        yield db


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def portal() -> Iterator[PortalServer]:
    with running_portal(items=ITEMS, seed=SEED, page_size=50) as server:
        yield server


@pytest.fixture
def env(rabbit: RabbitVhost, pg_database: PostgresDatabase, smtp: SmtpServer) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("ETAWATCH_")},
        "ETAWATCH_AMQP_URL": rabbit.url,
        "ETAWATCH_DATABASE_URL": pg_database.url,
        "ETAWATCH_SMTP_URL": smtp.url,
        "ETAWATCH_SMTP_REQUIRE_STARTTLS": "false",
        "ETAWATCH_DEBOUNCE_MINUTES": "0",
        "ETAWATCH_FLUSH_INTERVAL_SECONDS": "0.5",
        "ETAWATCH_TELL_SMALL_SLIPS": "true",
        "ETAWATCH_TELL_AVAILABILITY_CHANGED": "true",
        "ETAWATCH_BATCH_SECONDS": "0.2",
        "ETAWATCH_RELAY_INTERVAL_SECONDS": "0.2",
        "ETAWATCH_PROJECTION_INTERVAL_SECONDS": "0.2",
        "ETAWATCH_LOG_FORMAT": "json",
    }


@pytest.fixture
def system(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """`etawatch up` without a scraper; yields the query API's URL; stops it with SIGTERM."""
    port = free_port()
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [script("etawatch"), "up", "--api-port", str(port), "--data-dir", str(tmp_path)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()[-4000:]
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-4000:]
            time.sleep(0.3)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
        assert code == 0, (tmp_path / "up.log").read_text()[-4000:]


def api_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [script("etawatch-query-api"), "create-key", "--scope", "read", "--scope", "write"],
        env={**env, "ETAWATCH_VIEWS_URL": env["ETAWATCH_DATABASE_URL"], "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()[0]


def scrape(env: dict[str, str], portal: PortalServer, data: Path) -> int:
    result = subprocess.run(
        [script("etawatch-scraper"), "once", "--profile", "simulated-server"],
        env={
            **env,
            "ETAWATCH_PORTAL_URL": portal.url,
            "ETAWATCH_PORTAL_USERNAME": USERNAME,
            "ETAWATCH_PORTAL_PASSWORD": PASSWORD,
            "ETAWATCH_DATA_DIR": str(data),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode


def wait_for_runs(client: httpx.Client, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while True:
        runs: list[dict[str, object]] = client.get("/v1/runs").json()["items"]
        if len(runs) >= count:
            return runs
        assert time.monotonic() < deadline, f"expected {count} runs in the views, got {runs}"
        time.sleep(0.3)


def test_every_real_change_reaches_each_affected_customer_once(
    system: str, env: dict[str, str], portal: PortalServer, smtp: SmtpServer, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {api_key(env)}"}
    client = httpx.Client(base_url=system, headers=headers, timeout=10)
    supplier = "figurky-praha"
    orders = plan_orders(supplier, ITEMS, SEED, portal.scenario.today, DAYS, orders=12)
    for order in orders:
        body = order.model_dump(mode="json")
        assert client.post("/v1/orders", json=body).status_code == 202
        assert client.post("/v1/orders", json=body).status_code == 202  # idempotent

    assert scrape(env, portal, tmp_path / "scraper") == 0  # baseline: nobody is told
    since = portal.scenario.today
    wait_for_runs(client, 1)

    portal.faults.set(maintenance=True)  # a failed run changes nothing
    assert scrape(env, portal, tmp_path / "scraper") == 1
    wait_for_runs(client, 2)
    portal.faults.clear()

    portal.scenario.advance(days=DAYS)
    changed = {c.sku for c in portal.scenario.net_changes(since) if c.is_real}
    expected = {
        o.shop_order_id: {line.name for line in o.lines if line.sku in changed}
        for o in orders
        if any(line.sku in changed for line in o.lines)
    }
    assert expected, "the scenario must change some ordered items within a week"
    assert scrape(env, portal, tmp_path / "scraper") == 0
    received = smtp.wait_for(len(expected), timeout=90)
    time.sleep(2)  # anything extra that was on its way arrives now
    received = smtp.messages

    by_order: dict[str, list[str]] = {}
    for message in received:
        parsed = message.parsed
        text = parsed.get_body(preferencelist=("plain",))
        assert text is not None
        body = text.get_content()
        order_id = next(o for o in expected if o in str(parsed["Subject"]) + body)
        by_order.setdefault(order_id, []).append(body)
        for item_name in expected[order_id]:
            assert item_name in body, (order_id, item_name)
    assert set(by_order) == set(expected)
    assert all(len(bodies) == 1 for bodies in by_order.values()), by_order.keys()

    first = next(iter(expected))
    order_view = client.get(f"/v1/orders/{first}").json()
    deadline = time.monotonic() + 30
    while not order_view.get("notifications"):
        assert time.monotonic() < deadline, order_view
        time.sleep(0.3)
        order_view = client.get(f"/v1/orders/{first}").json()
    assert client.get("/v1/orders/NOPE-1").status_code == 404
