"""The ``etawatch-scraper`` command."""

import typer

from etawatch.runtime.cli import settings_command
from etawatch.scraper.config import ScraperSettings

app = typer.Typer(
    name="etawatch-scraper",
    help=__doc__,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
settings_command(app, ScraperSettings)
