"""The ``etawatch-ledger`` command."""

import typer

from etawatch.ledger.config import LedgerSettings
from etawatch.runtime.cli import settings_command

app = typer.Typer(
    name="etawatch-ledger",
    help=__doc__,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
settings_command(app, LedgerSettings)
