"""The ``etawatch-query-api`` command."""

import typer

from etawatch.query_api.config import QueryApiSettings
from etawatch.runtime.cli import settings_command

app = typer.Typer(
    name="etawatch-query-api",
    help=__doc__,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
settings_command(app, QueryApiSettings)
