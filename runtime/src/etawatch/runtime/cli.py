"""Helpers shared by the services' command lines."""

import typer
from rich.console import Console
from rich.table import Table

from etawatch.runtime.log import configure_logging
from etawatch.runtime.settings import ServiceSettings


def start_logging(settings: ServiceSettings) -> None:
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, secrets=settings.secret_values()
    )


def service_app(name: str, doc: str | None, settings: type[ServiceSettings]) -> typer.Typer:
    """A service's command line, with ``show-settings`` already on it."""
    app = typer.Typer(
        name=name, help=doc, no_args_is_help=True, pretty_exceptions_show_locals=False
    )
    settings_command(app, settings)
    return app


def settings_command(app: typer.Typer, load: type[ServiceSettings]) -> None:
    """Add ``show-settings``: the effective configuration with secrets masked."""

    @app.command("show-settings")
    def show_settings() -> None:
        """Print the effective configuration (secrets masked)."""
        table = Table("setting", "value")
        for key, value in load().public_dict().items():
            table.add_row(f"{load.model_config.get('env_prefix', '')}{key.upper()}", str(value))
        Console().print(table)
