"""The ``etawatch-query-api`` command: serve the API, keep views current, keys, imports."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from etawatch.query_api.config import QueryApiSettings
from etawatch.runtime.cli import service_app, start_logging

app = service_app("etawatch-query-api", __doc__, QueryApiSettings)
console = Console()

OPENAPI_PATH = Path(__file__).resolve().parents[4] / "openapi.json"


def _settings() -> QueryApiSettings:
    settings = QueryApiSettings()
    start_logging(settings)
    return settings


@app.command()
def serve() -> None:
    """Serve the HTTP API (and keep the views current, unless told not to)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from etawatch.query_api.bootstrap import build  # noqa: PLC0415
    from etawatch.query_api.entrypoints.api.app import create_app  # noqa: PLC0415

    settings = _settings()
    uvicorn.run(
        create_app(build(settings), freeze_start_up=True),
        host=settings.host,
        port=settings.port,
        log_config=None,
    )


@app.command("create-key")
def create_key_command(
    scope: Annotated[list[str], typer.Option(help="read or write; repeat for both.")],
    label: Annotated[str, typer.Option(help="Who the key is for.")] = "",
) -> None:
    """Make an API key and print it once: only its hash is kept."""
    from etawatch.query_api.adapters.key_store import SqlKeyStore  # noqa: PLC0415
    from etawatch.query_api.application.auth import create_key  # noqa: PLC0415
    from etawatch.query_api.bootstrap import open_views  # noqa: PLC0415
    from etawatch.query_api.domain.keys import Scope  # noqa: PLC0415

    try:
        scopes = {Scope(s) for s in scope}
    except ValueError as exc:
        raise typer.BadParameter("scope must be 'read' or 'write'", param_hint="--scope") from exc
    token = create_key(SqlKeyStore(open_views(_settings())), scopes, label)
    console.print(f"[bold]{token}[/bold]")
    console.print("Keep it now: it is not stored and cannot be shown again.", style="dim")


@app.command("revoke-key")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The id part of the key.")]) -> None:
    """Revoke a key; it stops working within ``ETAWATCH_KEY_CACHE_SECONDS``."""
    from etawatch.query_api.adapters.key_store import SqlKeyStore  # noqa: PLC0415
    from etawatch.query_api.bootstrap import open_views  # noqa: PLC0415

    if not SqlKeyStore(open_views(_settings())).revoke(key_id):
        console.print(f"no active key {key_id!r}", style="red")
        raise typer.Exit(1)
    console.print(f"key {key_id} revoked")


@app.command()
def project(
    forever: Annotated[bool, typer.Option(help="Keep following the ledger.")] = False,
) -> None:
    """Catch the views up with the ledger (once, or for ever)."""
    import time  # noqa: PLC0415

    from etawatch.query_api.bootstrap import build  # noqa: PLC0415

    settings = _settings()
    api = build(settings)
    while True:
        applied = api.project_once_sync()
        console.print(f"applied {applied} events; lag {api.projector.lag()}")
        if not forever:
            return
        if applied == 0:
            time.sleep(settings.projection_interval_seconds)


@app.command()
def rebuild(
    projection: Annotated[
        list[str] | None, typer.Option(help="items, orders or runs; repeat; default: all.")
    ] = None,
) -> None:
    """Replay views from the first event beside the live ones, check that they equal them, and
    swap them in (the live views answer meanwhile)."""
    from etawatch.query_api.adapters.read_ahead import ReaderError, read_ahead  # noqa: PLC0415
    from etawatch.query_api.application.rebuild import rebuild as rebuild_views  # noqa: PLC0415
    from etawatch.query_api.bootstrap import build  # noqa: PLC0415
    from etawatch.query_api.domain.projections.registry import all_projections  # noqa: PLC0415

    projections = all_projections()
    names = projection or list(projections)
    unknown = [n for n in names if n not in projections]
    if unknown:
        raise typer.BadParameter(
            f"unknown projection {', '.join(unknown)}; known: {', '.join(projections)}",
            param_hint="--projection",
        )
    settings = _settings()
    api = build(settings)
    chosen = [projections[name] for name in dict.fromkeys(names)]
    total = max((api.views.position(p.name) for p in chosen), default=0)
    columns = (
        TextColumn(f"rebuilding {', '.join(p.name for p in chosen)}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    try:
        with (
            Progress(*columns, console=console) as bar,
            read_ahead(
                api.source, settings.rebuild_batch_size, enabled=settings.rebuild_read_ahead
            ) as source,
        ):
            task = bar.add_task("rebuild", total=total)
            result = rebuild_views(
                source,
                api.views,
                chosen,
                batch_size=settings.rebuild_batch_size,
                cache_rows=settings.rebuild_cache_rows,
                progress=lambda n: bar.advance(task, n),
            )
    except ReaderError as exc:
        console.print(f"rebuild stopped, the live views are as they were: {exc}", markup=False)
        raise typer.Exit(1) from None
    console.print(
        f"replayed {result.events} events and swapped the views in, in "
        f"{result.seconds + result.swap_seconds:.1f} s ({result.events_per_second:,.0f} "
        f"events/s); the new views answer from event "
        f"{result.swapped_at}"
    )
    for view in result.views:
        verdict = "[green]equal to[/green]" if view.equal else "[red]DIFFERENT from[/red]"
        console.print(
            f"{view.projection}: the rebuilt view is {verdict} the one it replaced at event "
            f"{view.position} (sha256 {view.after[:16]} vs {view.before[:16]})"
        )
    if not result.equal:
        raise typer.Exit(1)


@app.command("import-orders")
def import_orders(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Register orders from a CSV file (one row per line); nothing is sent if any row is bad."""
    from faststream.rabbit import RabbitBroker  # noqa: PLC0415

    from etawatch.contracts.topology import LEDGER_ORDERS  # noqa: PLC0415
    from etawatch.query_api.application.import_orders import (  # noqa: PLC0415
        COLUMNS,
        parse_orders,
        publish_orders,
    )
    from etawatch.runtime.rabbit import RabbitBus, declare_topology  # noqa: PLC0415

    settings = _settings()
    with file.open(encoding="utf-8-sig", newline="") as handle:
        parsed = parse_orders(handle)
    if parsed.errors:
        for error in parsed.errors:
            console.print(f"{file.name}: {error}", style="red", markup=False, highlight=False)
        console.print(
            f"nothing imported: {len(parsed.errors)} problem(s). Columns: {', '.join(COLUMNS)}"
        )
        raise typer.Exit(1)

    async def send() -> int:
        async with RabbitBroker(settings.amqp_url.get_secret_value(), logger=None) as broker:
            await broker.connect()
            await declare_topology(broker, (LEDGER_ORDERS,))
            return await publish_orders(RabbitBus(broker), parsed.orders)

    sent = asyncio.run(send())
    console.print(f"imported {sent} orders from {file.name}")


@app.command()
def openapi(
    write: Annotated[
        bool, typer.Option(help=f"Write {OPENAPI_PATH.name} instead of printing.")
    ] = False,
) -> None:
    """The OpenAPI document of the HTTP API."""
    from etawatch.query_api.entrypoints.api.openapi import openapi_text  # noqa: PLC0415

    text = openapi_text()
    if write:
        OPENAPI_PATH.write_text(text, encoding="utf-8")
        console.print(f"wrote {OPENAPI_PATH}")
    else:
        typer.echo(text, nl=False)
