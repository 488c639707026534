"""etawatch: watch a supplier portal's delivery dates; tell pre-order customers when they move."""

import asyncio
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from etawatch.allinone.deadletters import read_dead_letters
from etawatch.allinone.demo import Demo, DemoOptions
from etawatch.allinone.narrate import Narrator
from etawatch.allinone.up import UpOptions, children, supervise
from etawatch.cli.configref import splice
from etawatch.demo.config import RenderMode
from etawatch.runtime.log import configure_logging

T = TypeVar("T")

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


async def _until_terminated(main: Coroutine[Any, Any, T]) -> T:
    """Await ``main``; SIGTERM (a service manager, ``docker stop``) cancels it as Ctrl-C does, so
    that it cleans up the same way: the browser and the portal closed, the state kept."""
    task = asyncio.current_task()
    assert task is not None  # called from asyncio.run
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await main
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Folder of all the demo's data.")] = Path("var"),
    cycles: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many cycles (default: run on).")
    ] = None,
    exit_check: Annotated[
        bool,
        typer.Option(
            "--exit",
            help="Exit 0 only if every real change reached its customers and nothing else did.",
        ),
    ] = False,
    items: Annotated[int, typer.Option(min=10, max=100_000, help="Items at the supplier.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the supplier's scenario.")] = 7,
    days: Annotated[int, typer.Option(min=1, help="Supplier days that pass per cycle.")] = 7,
    interval: Annotated[
        float, typer.Option(min=0, help="Seconds between cycles (0 with --exit).")
    ] = 10.0,
    api_port: Annotated[int, typer.Option(help="Port of the query API.")] = 8000,
    smtp_url: Annotated[
        str | None, typer.Option(help="Send emails over SMTP instead of writing .eml files.")
    ] = None,
) -> None:
    """Run the whole system in one process against the simulated supplier portal."""
    options = DemoOptions(
        data_dir=data_dir,
        cycles=cycles,
        exit_check=exit_check,
        items=items,
        seed=seed,
        days_per_cycle=days,
        interval_seconds=0.0 if exit_check else interval,
        api_port=api_port,
        smtp_url=SecretStr(smtp_url) if smtp_url else None,
    )
    configure_logging(level="WARNING", fmt="console")
    console = Console()
    try:
        ok = asyncio.run(_until_terminated(Demo(options, Narrator(console)).run()))
    except (KeyboardInterrupt, asyncio.CancelledError) as stopped:
        console.print("Stopped. Run again to resume where it left off.")
        code = 130 if isinstance(stopped, KeyboardInterrupt) else 128 + signal.SIGTERM
        raise typer.Exit(code=code) from None
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from None
    if exit_check and not ok:
        raise typer.Exit(code=1)


@app.command()
def up(
    amqp_url: Annotated[
        str, typer.Option(envvar="ETAWATCH_AMQP_URL", help="RabbitMQ URL.", show_default=False)
    ],
    database_url: Annotated[
        str,
        typer.Option(envvar="ETAWATCH_DATABASE_URL", help="PostgreSQL URL.", show_default=False),
    ],
    smtp_url: Annotated[
        str | None, typer.Option(envvar="ETAWATCH_SMTP_URL", help="SMTP URL (else .eml files).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="Portal profile to scrape on a schedule (else no scraper).")
    ] = None,
    every: Annotated[str, typer.Option(help="Time between scrapes.")] = "30m",
    jitter: Annotated[str, typer.Option(help="Up to this much more.")] = "5m",
    api_port: Annotated[int, typer.Option(help="Port of the query API.")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Folder for local files.")] = Path("var"),
    environment: Annotated[
        str, typer.Option(envvar="ETAWATCH_ENVIRONMENT", help="development or production.")
    ] = "development",
) -> None:
    """Run every service against real RabbitMQ, PostgreSQL and SMTP (one server)."""
    configure_logging(level="INFO", fmt="console")
    options = UpOptions(
        amqp_url=SecretStr(amqp_url),
        database_url=SecretStr(database_url),
        smtp_url=SecretStr(smtp_url) if smtp_url else None,
        profile=profile,
        every=every,
        jitter=jitter,
        api_port=api_port,
        data_dir=data_dir,
        environment=environment,
    )
    raise typer.Exit(code=asyncio.run(supervise(children(options), Console())))


@app.command("dead-letters")
def dead_letters(
    amqp_url: Annotated[
        str, typer.Option(envvar="ETAWATCH_AMQP_URL", help="RabbitMQ URL.", show_default=False)
    ],
    queue: Annotated[
        list[str] | None, typer.Option(help="Consumer queue(s) to look at (default: all).")
    ] = None,
    purge: Annotated[bool, typer.Option(help="Remove the messages once shown.")] = False,
    requeue: Annotated[
        bool, typer.Option(help="Send them back to their queue (after fixing the cause).")
    ] = False,
) -> None:
    """Show what the consumers refused, and why (the dead-letter queues)."""
    if purge and requeue:
        raise typer.BadParameter("--purge and --requeue exclude each other")
    letters = asyncio.run(read_dead_letters(amqp_url, queues=queue, purge=purge, requeue=requeue))
    table = Table("queue", "message id", "type", "reason")
    for letter in letters:
        table.add_row(letter.queue, letter.message_id or "-", letter.type or "-", letter.reason)
    console = Console()
    console.print(table)
    action = "removed" if purge else "sent back to their queues" if requeue else "left in place"
    console.print(f"{len(letters)} dead letters, {action}.")


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
