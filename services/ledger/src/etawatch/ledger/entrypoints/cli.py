"""The ``etawatch-ledger`` command."""

from etawatch.ledger.config import LedgerSettings
from etawatch.runtime.cli import service_app

app = service_app("etawatch-ledger", __doc__, LedgerSettings)
