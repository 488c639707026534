"""Scrape runs as the ledger recorded them, their outcome and counts, and each supplier's health.

The ledger keeps, per run, whether it succeeded or failed (``SupplierHealth``) and, per
observation partition, when the run was compared, with how many rows and how many known items it
lacked (``RunLog``). Since version 2 of the ledger's run outcome events it also keeps what the
scraper reported: when the run started, items seen, pages, and a failed run's saved artifacts;
``None`` for runs recorded before. Since version 3 it keeps the scraper's data-quality counts
(unknown availabilities, unreadable ETAs, duplicate SKUs), ``None`` for runs recorded before and
for runs that failed (a truncated run has them).
"""

from collections.abc import Sequence
from typing import Any

from etawatch.query_api.domain.facts import (
    Fact,
    RunCompared,
    RunFailed,
    RunNotCompared,
    RunSucceeded,
    SupplierDegraded,
)
from etawatch.query_api.domain.rows import Rows, Table

RUNS = Table(
    "qa_runs",
    key=("run_id",),
    columns=("supplier", "seen_seq"),
    ints=frozenset({"seen_seq"}),
    indexes=(("seen_seq",), ("supplier", "seen_seq")),
)
HEALTH = Table("qa_supplier_health", key=("supplier",))

RunFact = RunSucceeded | RunFailed | RunCompared | RunNotCompared
_RUN_FACTS = (RunSucceeded, RunFailed, RunCompared, RunNotCompared)


def _new_run(fact: RunFact) -> dict[str, Any]:
    return {
        "run_id": str(fact.run_id),
        "supplier": fact.supplier,
        "outcome": "in_progress",
        "started_at": None,
        "finished_at": None,
        "reason": None,
        "message": None,
        "items_seen": None,
        "pages": None,
        "artifacts": None,
        "unknown_availability": None,
        "unreadable_eta": None,
        "duplicate_skus": None,
        "observations": 0,
        "unseen": 0,
        "partitions_compared": 0,
        "partitions_not_compared": [],
    }


def _new_health(supplier: str) -> dict[str, Any]:
    return {
        "supplier": supplier,
        "runs": 0,
        "last_run_id": None,
        "last_outcome": None,
        "last_success_at": None,
        "consecutive_failures": 0,
        "failing_since": None,
        "degraded": False,
    }


class RunsProjection:
    name = "runs"
    tables: tuple[Table, ...] = (RUNS, HEALTH)
    retired: tuple[str, ...] = ()

    def prefetch(self, facts: Sequence[Fact], rows: Rows) -> None:
        """A few events a run: read as they come."""

    def apply(self, fact: Fact, rows: Rows) -> None:
        if isinstance(fact, SupplierDegraded):
            health = self._health_doc(rows, fact.supplier)
            health["degraded"] = True
            health["consecutive_failures"] = fact.consecutive_failures
            health["failing_since"] = fact.failing_since
            rows.put(HEALTH, {"supplier": fact.supplier, "doc": health})
            return
        if not isinstance(fact, _RUN_FACTS):
            return
        run_id = str(fact.run_id)
        row = rows.get(RUNS, (run_id,))
        doc = row["doc"] if row else _new_run(fact)
        seen = row["seen_seq"] if row else fact.seq
        if isinstance(fact, RunCompared):
            doc["observations"] += fact.observations
            doc["unseen"] += fact.unseen
            doc["partitions_compared"] += 1
            started = fact.started_at
            doc["started_at"] = min(doc["started_at"] or started, started)
            doc["finished_at"] = max(doc["finished_at"] or "", fact.finished_at)
        elif isinstance(fact, RunNotCompared):
            doc["partitions_not_compared"].append(
                {"partition": fact.partition, "reason": fact.reason}
            )
        elif isinstance(fact, RunSucceeded):
            doc["outcome"] = "complete"
            doc["finished_at"] = fact.finished_at
            self._record_report(doc, fact)
            self._record_health(rows, fact.supplier, doc)
        else:
            doc.update(
                outcome="failed",
                reason=fact.reason,
                message=fact.message,
                finished_at=fact.failed_at,
                artifacts=None if fact.artifacts is None else list(fact.artifacts),
            )
            self._record_report(doc, fact)
            self._record_health(rows, fact.supplier, doc)
        rows.put(RUNS, {"run_id": run_id, "supplier": fact.supplier, "seen_seq": seen, "doc": doc})

    @staticmethod
    def _record_report(doc: dict[str, Any], fact: RunSucceeded | RunFailed) -> None:
        """What the scraper reported of its run (None when the ledger did not store it)."""
        doc.update(
            items_seen=fact.items_seen,
            pages=fact.pages,
            unknown_availability=fact.unknown_availability,
            unreadable_eta=fact.unreadable_eta,
            duplicate_skus=fact.duplicate_skus,
        )
        if fact.started_at is not None:
            started = fact.started_at
            doc["started_at"] = min(doc["started_at"] or started, started)

    @staticmethod
    def _health_doc(rows: Rows, supplier: str) -> dict[str, Any]:
        row = rows.get(HEALTH, (supplier,))
        return row["doc"] if row else _new_health(supplier)

    def _record_health(self, rows: Rows, supplier: str, run: dict[str, Any]) -> None:
        health = self._health_doc(rows, supplier)
        health["runs"] += 1
        health["last_run_id"] = run["run_id"]
        health["last_outcome"] = run["outcome"]
        if run["outcome"] == "complete":
            health.update(
                last_success_at=run["finished_at"],
                consecutive_failures=0,
                failing_since=None,
                degraded=False,
            )
        else:
            health["consecutive_failures"] += 1
            health["failing_since"] = health["failing_since"] or run["finished_at"]
        rows.put(HEALTH, {"supplier": supplier, "doc": health})
