"""Embedded mode, as the all-in-one demo wires it: one process, the in-process bus, the ledger's
own store object, and ``project_once`` driven step by step."""

from pathlib import Path

import pytest
from etawatch_testing.ledger import RunScript, feed, new_ledger
from etawatch_testing.query_api import Keys, make_keys
from fastapi.testclient import TestClient
from pydantic import SecretStr

from etawatch.ledger.application.store import LedgerStore
from etawatch.query_api.bootstrap import build
from etawatch.query_api.config import QueryApiSettings
from etawatch.query_api.entrypoints.api.app import create_app
from etawatch.runtime.bus import InMemoryBus

pytestmark = pytest.mark.integration

ORDER = {
    "shop_order_id": "E-1",
    "customer_id": "c-1",
    "email": "eva@example.com",
    "customer_name": "Eva",
    "lines": [{"supplier": "acme", "sku": "S1", "name": "Figure", "quantity": 1}],
}


async def test_an_order_posted_in_embedded_mode_shows_the_supplier_state(tmp_path: Path) -> None:
    store = LedgerStore(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l")}
    )
    ledger = new_ledger(store)
    bus = InMemoryBus()
    ledger.wire(bus)
    settings = QueryApiSettings(views_url=SecretStr(f"sqlite:///{tmp_path / 'views.sqlite'}"))
    api = build(settings, bus=bus, ledger_store=store)
    keys = make_keys(api)
    with TestClient(create_app(api, run_projector=False)) as client:
        posted = client.post("/v1/orders", json=ORDER, headers=Keys.bearer(keys.write))
        assert posted.status_code == 202
        assert await bus.drain() == 1
        await feed(ledger, RunScript({"S1": "Q2 2027"}))
        assert await api.project_once() > 0
        assert await api.project_once() == 0  # caught up: nothing applied twice
        order = client.get("/v1/orders/E-1", headers=Keys.bearer(keys.read)).json()
        assert order["lines"][0]["eta"]["raw"] == "Q2 2027"
        assert client.get("/readyz").json()["lag"] == {"items": 0, "orders": 0, "runs": 0}
    api.close()
    assert store.recorder.max_notification_id()  # the demo's store is still open: it owns it
    store.close()
    assert bus.dead_letters == []
