"""``etawatch-ledger history``: the timeline of an item or an order from a SQLite store."""

import datetime as dt
from pathlib import Path

import pytest
from etawatch_testing.ledger import NOW, RunScript, feed, new_ledger, placed
from typer.testing import CliRunner

from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.config import event_store_env
from etawatch.ledger.entrypoints.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    monkeypatch.setenv("ETAWATCH_DATABASE_URL", url)
    store = LedgerStore(env=event_store_env(url))
    ledger = new_ledger(store)
    await ledger.handle_command(placed("A-1", ["S1"]))
    await feed(ledger, RunScript({"S1": "Q2 2027"}))
    await feed(ledger, RunScript({"S1": "Q3 2027"}, at=NOW + dt.timedelta(hours=1)))
    store.close()
    return url


def test_history_of_an_item_and_of_an_order(database: str) -> None:
    runner = CliRunner()
    item = runner.invoke(app, ["history", "--sku", "S1"], env={"COLUMNS": "200"})
    assert item.exit_code == 0, item.output
    assert "FirstSeen" in item.output
    assert "EtaChanged" in item.output
    assert "'Q3 2027'" in item.output
    order = runner.invoke(app, ["history", "--order", "A-1"], env={"COLUMNS": "200"})
    assert order.exit_code == 0, order.output
    assert "Placed" in order.output
    assert "LineItemChanged" in order.output


def test_history_says_what_is_wrong(database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["history"]).exit_code == 2
    unknown = runner.invoke(app, ["history", "--sku", "NOPE"])
    assert unknown.exit_code == 2
    assert "no supplier" in unknown.output
    missing = runner.invoke(app, ["history", "--order", "NOPE"])
    assert missing.exit_code == 1
    assert "nothing recorded" in missing.output
