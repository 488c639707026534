"""The ``etawatch-ledger`` command: run the ledger, or print the history of an item or order."""

import asyncio
import signal

import typer
from rich.console import Console
from rich.table import Table

from etawatch.ledger.application.history import (
    Entry,
    item_timeline,
    order_timeline,
    suppliers_of,
)
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.bootstrap import build_consumer, readiness_checks
from etawatch.ledger.config import LedgerSettings
from etawatch.runtime.cli import service_app, start_logging
from etawatch.runtime.health import ServiceHealth
from etawatch.runtime.health_http import serving_probes

app = service_app("etawatch-ledger", __doc__, LedgerSettings)


@app.command()
def run() -> None:
    """Consume observations and order commands, and relay stored events (until stopped).

    The metrics port also answers the probes: ``/healthz`` and ``/readyz``.
    """
    settings = LedgerSettings()
    start_logging(settings)
    health = ServiceHealth.for_settings(settings)
    with serving_probes(health, settings.metrics_port):
        asyncio.run(_run(settings, health))


async def _run(settings: LedgerSettings, health: ServiceHealth) -> None:
    consumer = build_consumer(settings)
    health.checks.update(readiness_checks(consumer))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with health.watching():
        await consumer.start()
        health.mark_started()
        try:
            await stop.wait()
        finally:
            await consumer.stop()


@app.command()
def history(
    sku: str | None = typer.Option(None, help="The supplier's SKU of an item."),
    supplier: str | None = typer.Option(None, help="The supplier (needed if several have it)."),
    order: str | None = typer.Option(None, help="The shop's order id."),
) -> None:
    """Print the timeline of one item (--sku) or one order (--order)."""
    if (sku is None) == (order is None):
        raise typer.BadParameter("give either --sku or --order")
    settings = LedgerSettings()
    store = LedgerStore(env={**settings.event_store_env(), "CREATE_TABLE": "no"})
    console = Console()
    if order is not None:
        _print(console, f"order {order}", order_timeline(store, order))
        return
    assert sku is not None
    if supplier is None:
        found = suppliers_of(store, sku)
        if len(found) != 1:
            where = ", ".join(found) if found else "no supplier"
            raise typer.BadParameter(f"SKU {sku!r} is known at {where}: give --supplier")
        supplier = found[0]
    _print(console, f"{supplier} / {sku}", item_timeline(store, supplier, sku))


def _print(console: Console, title: str, entries: list[Entry]) -> None:
    if not entries:
        console.print(f"[yellow]nothing recorded for {title}[/yellow]")
        raise typer.Exit(1)
    table = Table("#", "recorded (UTC)", "what", "details", title=title)
    for entry in entries:
        table.add_row(str(entry.version), entry.recorded_at, entry.what, entry.details)
    console.print(table)
