"""Order commands over real RabbitMQ, into the real ledger, and back out through the views."""

from pathlib import Path

import aio_pika
import pytest
from etawatch_testing.infra import RabbitVhost
from etawatch_testing.ledger import new_ledger
from etawatch_testing.query_api import Keys, make_keys, take_orders
from fastapi.testclient import TestClient
from pydantic import SecretStr

from etawatch.contracts.envelope import open_envelope
from etawatch.contracts.ids import order_command_id
from etawatch.ledger.application.store import LedgerStore
from etawatch.query_api.bootstrap import build
from etawatch.query_api.config import QueryApiSettings
from etawatch.query_api.entrypoints.api.app import create_app

pytestmark = pytest.mark.integration

ORDER = {
    "shop_order_id": "W-1",
    "customer_id": "c-77",
    "email": "eva@example.com",
    "customer_name": "Eva",
    "locale": "en",
    "lines": [{"supplier": "acme", "sku": "S1", "name": "Figure", "quantity": 2}],
}


async def test_posted_orders_reach_the_ledger_once_and_come_back_in_the_views(
    rabbit: RabbitVhost, tmp_path: Path
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l.db")}
    store = LedgerStore(env=env)
    ledger = new_ledger(store)
    settings = QueryApiSettings(
        amqp_url=SecretStr(rabbit.url), views_url=SecretStr(f"sqlite:///{tmp_path / 'v.db'}")
    )
    api = build(settings, ledger_env=env)
    keys = make_keys(api)
    with TestClient(create_app(api, run_projector=False)) as client:
        ready = client.get("/readyz").json()
        assert ready["checks"] == {"views": "ok", "ledger": "ok", "broker": "ok"}
        write = Keys.bearer(keys.write)
        first = client.post("/v1/orders", json=ORDER, headers=write)
        again = client.post("/v1/orders", json=ORDER, headers=write)
        close = client.post("/v1/orders/W-1/close", json={"reason": "cancelled"}, headers=write)
        bad = client.post("/v1/orders", json={**ORDER, "lines": []}, headers=write)
        assert (first.status_code, again.status_code, close.status_code) == (202, 202, 202)
        assert first.json() == again.json()
        assert first.json()["command_id"] == str(order_command_id("W-1", "placed"))
        assert bad.status_code == 422
        assert "lines" in bad.json()["detail"]

        messages = await take_orders(rabbit.url, {"W-1"}, 3)
        assert [m.message_id for m in messages] == [
            str(order_command_id("W-1", "placed")),
            str(order_command_id("W-1", "placed")),
            str(order_command_id("W-1", "closed")),
        ]
        assert all(m.delivery_mode == aio_pika.DeliveryMode.PERSISTENT for m in messages)
        for message in messages:  # the ledger keeps the same command once
            await ledger.handle_command(open_envelope(message.body))

        assert await api.project_once() == 2
        order = client.get("/v1/orders/W-1", headers=Keys.bearer(keys.read)).json()
        assert (order["customer_id"], order["status"]) == ("c-77", "cancelled")
        assert order["lines"][0]["quantity"] == 2
    api.close()
    store.close()


async def test_a_broker_that_is_gone_is_a_503_with_a_reason(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l.db")}
    LedgerStore(env=env).close()
    settings = QueryApiSettings(views_url=SecretStr(f"sqlite:///{tmp_path / 'v.db'}"))

    class GoneBus:
        async def publish(self, *_args: object, **_kwargs: object) -> None:
            raise ConnectionError("connection refused")

    api = build(settings, bus=GoneBus(), ledger_env=env)
    keys = make_keys(api)
    with TestClient(create_app(api, run_projector=False)) as client:
        response = client.post("/v1/orders", json=ORDER, headers=Keys.bearer(keys.write))
    assert response.status_code == 503
    assert "try again" in response.json()["detail"]
    api.close()


def test_without_a_broker_the_api_starts_but_is_not_ready(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l.db")}
    LedgerStore(env=env).close()
    settings = QueryApiSettings(
        amqp_url=SecretStr("amqp://guest:guest@127.0.0.1:1/"),  # nothing listens there
        views_url=SecretStr(f"sqlite:///{tmp_path / 'v.db'}"),
    )
    api = build(settings, ledger_env=env)
    keys = make_keys(api)
    with TestClient(create_app(api, run_projector=False)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"].startswith("failed")
        assert ready.json()["checks"]["views"] == "ok"
        posted = client.post("/v1/orders", json=ORDER, headers=Keys.bearer(keys.write))
        assert posted.status_code == 503
    api.close()
