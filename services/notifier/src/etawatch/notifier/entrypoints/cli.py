"""The ``etawatch-notifier`` command."""

import typer

from etawatch.notifier.config import NotifierSettings
from etawatch.runtime.cli import settings_command

app = typer.Typer(
    name="etawatch-notifier",
    help=__doc__,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
settings_command(app, NotifierSettings)
