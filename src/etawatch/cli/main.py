"""etawatch: watch a supplier portal's delivery dates; tell pre-order customers when they move."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from etawatch.cli.configref import splice
from etawatch.demo.config import RenderMode

app = typer.Typer(
    name="etawatch", help=__doc__, no_args_is_help=True, pretty_exceptions_show_locals=False
)


@app.command()
def docs(
    check: Annotated[bool, typer.Option(help="Fail if the README is not current.")] = False,
    readme: Annotated[Path, typer.Option(help="The README to update.")] = Path("README.md"),
) -> None:
    """Write the configuration reference into the README (from the settings classes)."""
    text = readme.read_text(encoding="utf-8")
    current = splice(text)
    if check:
        if current != text:
            Console(stderr=True).print(f"{readme} is not current: run `make docs`")
            raise typer.Exit(code=1)
        return
    readme.write_text(current, encoding="utf-8")


@app.command()
def demo() -> None:
    """Run the whole system in one process against the simulated supplier portal."""
    Console(stderr=True).print(
        "[yellow]The embedded demo is not built yet[/yellow] (it needs the scraper, ledger, "
        "notifier and query API). Run `make test` to check the parts that exist."
    )
    raise typer.Exit(code=2)


@app.command()
def portal(
    *,
    port: Annotated[int | None, typer.Option(help="Port to listen on (0: a free one).")] = 8080,
    items: Annotated[int | None, typer.Option(help="Items in the catalogue (default 500).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the scenario (default 7).")] = None,
    mode: Annotated[
        RenderMode | None, typer.Option(help="server: rows in the HTML; script: rows from JSON.")
    ] = None,
    page_size: Annotated[int | None, typer.Option(help="Rows per page (default 50).")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
) -> None:
    """Run the simulated supplier portal (settings also from ETAWATCH_PORTAL_* variables)."""
    from etawatch.demo.entrypoints.cli import run_portal  # noqa: PLC0415 - keeps --help quick

    run_portal(port=port, items=items, seed=seed, mode=mode, page_size=page_size, host=host)
