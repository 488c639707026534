"""The ledger's application tests on the in-memory (POPO) store."""

import pytest

pytest.register_assert_rewrite("etawatch_testing.ledger_cases")

from etawatch_testing.ledger_cases import LedgerApplicationCases  # noqa: E402


class TestLedgerInMemory(LedgerApplicationCases):
    def env(self) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
