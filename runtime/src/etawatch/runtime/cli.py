"""Helpers shared by the services' command lines."""

import sys
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from etawatch.runtime.log import configure_logging
from etawatch.runtime.settings import ServiceSettings


def start_logging(settings: ServiceSettings) -> None:
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, secrets=settings.secret_values()
    )


class ServiceApp(typer.Typer):
    """A Typer app that answers invalid settings with what is wrong, not a traceback."""

    env_prefix = ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as exc:
            sys.stderr.write(settings_error(exc, self.env_prefix))
            raise SystemExit(2) from None


def settings_error(exc: ValidationError, env_prefix: str) -> str:
    """One line per invalid setting, named as it is set; the values are not repeated."""
    lines = [f"invalid configuration ({exc.error_count()} problem(s)):"]
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        name = f"{env_prefix}{field.upper()}" if field else "(settings)"
        lines.append(f"  {name}: {error['msg']}")
    return "\n".join(lines) + "\n"


def service_app(name: str, doc: str | None, settings: type[ServiceSettings]) -> typer.Typer:
    """A service's command line, with ``show-settings`` already on it."""
    app = ServiceApp(name=name, help=doc, no_args_is_help=True, pretty_exceptions_show_locals=False)
    app.env_prefix = str(settings.model_config.get("env_prefix", ""))
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
