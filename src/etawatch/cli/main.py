"""etawatch: watch a supplier portal's delivery dates; tell pre-order customers when they move."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from etawatch.cli.configref import splice

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
