"""``etawatch portal``: run the simulated supplier portal in the foreground."""

from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from etawatch.demo.config import PortalConfig
from etawatch.demo.server import PortalServer
from etawatch.runtime.cli import start_logging


def run_portal(**overrides: Any) -> None:
    """Serve until Ctrl-C. ``overrides`` (``None`` ones ignored) win over ``ETAWATCH_PORTAL_*``."""
    console = Console()
    try:
        config = PortalConfig(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        Console(stderr=True).print(f"[red]Invalid portal settings[/red]: {exc}")
        raise typer.Exit(code=2) from exc
    start_logging(config)

    def ready(url: str) -> None:
        # Printed on purpose: whoever starts the demo portal needs these to log in to it.
        table = Table(title=f"{config.supplier_name} B2B (simulated)", show_header=False)
        table.add_row("portal", f"{url}/login")
        table.add_row("username", config.username)
        table.add_row("password", config.password.get_secret_value())
        table.add_row("admin token", config.admin_token.get_secret_value())
        table.add_row("admin API", f"{url}/admin/ground-truth, /admin/advance, /admin/faults")
        table.add_row(
            "catalogue",
            f"{config.items} items, seed {config.seed}, {config.page_size} per page, "
            f"{config.mode.value} mode, day 0 = {config.start_date.isoformat()}",
        )
        console.print(table)
        console.print("Ctrl-C stops the portal.")

    PortalServer(config).serve_forever(ready)
