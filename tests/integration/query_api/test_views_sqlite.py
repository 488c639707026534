"""The query API over SQLite files filled by the real ledger (embedded mode)."""

import asyncio
import uuid
from pathlib import Path

import pytest
from etawatch_testing.ledger import NOW, RunScript, feed, new_ledger, store_as_old_version
from etawatch_testing.query_api import HOUR, Keys, client_for, make_api, make_keys
from etawatch_testing.query_api_cases import QueryApiCases

from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.health import SupplierHealth
from etawatch.ledger.domain.values import supplier_health_id

pytestmark = pytest.mark.integration


class TestOnSqlite(QueryApiCases):
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _folder(cls, tmp_path_factory: pytest.TempPathFactory) -> None:
        cls.folder = tmp_path_factory.mktemp("query-api")

    folder: Path

    @classmethod
    def ledger_env(cls) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(cls.folder / "ledger.sqlite"),
        }

    @classmethod
    def views_url(cls, name: str) -> str:
        return f"sqlite:///{cls.folder / name}.sqlite"

    @classmethod
    def store_env(cls, name: str) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(cls.folder / f"{name}.sqlite"),
        }


def test_runs_the_ledger_recorded_before_it_kept_the_scraper_report_answer_none(
    tmp_path: Path,
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l.db")}
    store = LedgerStore(env=env)
    try:
        new = asyncio.run(feed(new_ledger(store), RunScript({"S1": "Q2 2027"}, pages=4)))
        old = uuid.uuid4()
        # Version 1 of RunSucceeded, as the ledger stored it before it kept the scraper's report.
        v1 = {"timestamp": NOW, "run_id": old, "finished_at": NOW + HOUR}
        store_as_old_version(
            store, supplier_health_id("acme"), [(SupplierHealth.RunSucceeded, v1)], from_version=3
        )
    finally:
        store.close()
    api = make_api(env, f"sqlite:///{tmp_path / 'views.sqlite'}")
    try:
        assert api.project_once_sync() > 0
        with client_for(api) as client:
            read = Keys.bearer(make_keys(api).read)
            runs = client.get("/v1/runs", headers=read).json()["items"]
    finally:
        api.close()
    shown = {r["run_id"]: (r["outcome"], r["items_seen"], r["pages"]) for r in runs}
    assert shown == {str(old): ("complete", None, None), str(new.run_id): ("complete", 1, 4)}
