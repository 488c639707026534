"""The command line: keys, rebuild with its verdict, and the CSV import against RabbitMQ."""

import asyncio
import re
from pathlib import Path

import pytest
from etawatch_testing.infra import RabbitVhost
from etawatch_testing.query_api import fill_store, make_api, take_orders
from typer.testing import CliRunner

from etawatch.contracts.envelope import open_envelope
from etawatch.query_api.entrypoints.cli import app

pytestmark = pytest.mark.integration

HEADER = "shop_order_id,placed_at,customer_id,email,customer_name,locale,supplier,sku,name,quantity"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    ledger = tmp_path / "ledger.sqlite"
    fill_store({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(ledger)})
    variables = {
        "ETAWATCH_DATABASE_URL": f"sqlite:///{ledger}",
        "ETAWATCH_VIEWS_URL": f"sqlite:///{tmp_path / 'views.sqlite'}",
        "ETAWATCH_LOG_FORMAT": "json",
    }
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    return variables


def test_create_key_prints_a_working_key_once(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["create-key", "--scope", "read", "--label", "support"])
    assert result.exit_code == 0, result.output
    token = re.search(r"etw_[0-9a-f]{12}_\S+", result.output)
    assert token is not None
    api = make_api(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": env["ETAWATCH_DATABASE_URL"][10:],
        },
        env["ETAWATCH_VIEWS_URL"],
    )
    assert api.auth.verify(token.group(0)) is not None
    bad = CliRunner().invoke(app, ["create-key", "--scope", "admin"])
    assert bad.exit_code != 0
    assert "read" in bad.output


def test_rebuild_says_the_rebuilt_view_equals_the_live_one(env: dict[str, str]) -> None:
    assert CliRunner().invoke(app, ["project"]).exit_code == 0
    result = CliRunner().invoke(app, ["rebuild", "--projection", "orders"])
    assert result.exit_code == 0, result.output
    assert "equal to" in result.output
    unknown = CliRunner().invoke(app, ["rebuild", "--projection", "nope"])
    assert unknown.exit_code != 0
    assert "unknown projection nope" in unknown.output


def test_import_sends_nothing_when_a_row_is_bad_and_everything_when_all_are_good(
    env: dict[str, str], rabbit: RabbitVhost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETAWATCH_AMQP_URL", rabbit.url)
    good = "A-9,2026-11-01T10:00:00+01:00,c1,jana@example.com,Jana,cs,acme,S1,Figure,2"
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text(f"{HEADER}\n{good}\nA-10,2026-11-01,c2,nope,Petr,cs,acme,S1,Figure,0\n")
    result = CliRunner().invoke(app, ["import-orders", str(bad_file)])
    assert result.exit_code == 1
    assert "line 3" in result.output
    assert "nothing imported" in result.output
    good_file = tmp_path / "good.csv"
    good_file.write_text(f"{HEADER}\n{good}\n{good.replace('A-9', 'A-11')}\n")
    result = CliRunner().invoke(app, ["import-orders", str(good_file)])
    assert result.exit_code == 0, result.output
    assert "imported 2 orders" in result.output
    taken = asyncio.run(take_orders(rabbit.url, {"A-9", "A-10", "A-11"}, 2))
    assert sorted(open_envelope(m.body).subject or "" for m in taken) == ["A-11", "A-9"]
