"""etawatch: watch a supplier portal's delivery dates; tell pre-order customers when they move."""

import typer
from rich.console import Console

app = typer.Typer(
    name="etawatch", help=__doc__, no_args_is_help=True, pretty_exceptions_show_locals=False
)


@app.command()
def demo() -> None:
    """Run the whole system in one process against the simulated supplier portal."""
    Console(stderr=True).print(
        "[yellow]The embedded demo is not built yet[/yellow] (it needs the scraper, ledger, "
        "notifier and query API). Run `make test` to check the parts that exist."
    )
    raise typer.Exit(code=2)
