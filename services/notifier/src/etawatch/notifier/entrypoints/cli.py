"""The ``etawatch-notifier`` command."""

import asyncio
import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated

import typer
from faststream.rabbit import RabbitBroker
from rich.console import Console

from etawatch.contracts.ids import notification_id
from etawatch.contracts.messages import ChangeKind
from etawatch.notifier.bootstrap import build_notifier, build_store
from etawatch.notifier.config import NotifierSettings
from etawatch.notifier.entrypoints.stream import create_app
from etawatch.notifier.metrics import NotifierMetrics
from etawatch.notifier.rendering.compose import EmailComposer
from etawatch.notifier.rendering.samples import sample_digest
from etawatch.runtime.cli import service_app, start_logging
from etawatch.runtime.health import ServiceHealth
from etawatch.runtime.health_http import serving_probes
from etawatch.runtime.rabbit import RabbitBus, broker_check

app = service_app("etawatch-notifier", __doc__, NotifierSettings)


@app.command()
def run() -> None:
    """Consume changes from RabbitMQ, send what is due, publish each outcome.

    The metrics port also answers the probes: ``/healthz`` and ``/readyz``.
    """
    settings = NotifierSettings()
    start_logging(settings)
    health = ServiceHealth.for_settings(settings)
    metrics = NotifierMetrics()
    with serving_probes(health, settings.metrics_port, registry=metrics.registry):
        asyncio.run(_run(settings, health, metrics))


async def _run(settings: NotifierSettings, health: ServiceHealth, metrics: NotifierMetrics) -> None:
    broker = RabbitBroker(settings.amqp_url.get_secret_value())
    store = await build_store(settings)
    service = await build_notifier(settings, RabbitBus(broker), store=store, metrics=metrics)
    health.checks.update(broker=broker_check(broker), store=store.ping)
    app = create_app(
        broker,
        service,
        settings.flush_interval_seconds,
        settings.prefetch,
        retention=settings.retention(),
        prune_every=dt.timedelta(hours=settings.prune_interval_hours),
    )

    @app.after_startup
    async def consuming() -> None:
        health.mark_started()

    async with health.watching():
        await app.run()


@app.command()
def prune(
    dry_run: Annotated[bool, typer.Option(help="Only count what would be deleted.")] = False,
) -> None:
    """Delete finished rows older than ETAWATCH_RETENTION_DAYS, in small batches.

    Sent or given-up messages whose outcome is published, consumed changes and baselines of
    items with nothing held or pending; never anything pending or being sent.
    """
    settings = NotifierSettings()
    start_logging(settings)
    counts = asyncio.run(_prune(settings, dry_run=dry_run))
    verb = "would delete" if dry_run else "deleted"
    for table, count in counts.items():
        typer.echo(f"{table}: {verb} {count}")


async def _prune(settings: NotifierSettings, *, dry_run: bool) -> dict[str, int]:
    store = await build_store(settings)
    try:
        return await store.prune(dt.datetime.now(dt.UTC) - settings.retention(), dry_run=dry_run)
    finally:
        await store.close()


@app.command()
def preview(
    locale: Annotated[str, typer.Option(help="Customer locale, e.g. cs, en, en_GB.")] = "cs",
    kind: Annotated[
        list[ChangeKind] | None, typer.Option(help="Change kind of an item; repeat for a digest.")
    ] = None,
    html: Annotated[bool, typer.Option(help="Print the HTML part instead of the text.")] = False,
    eml: Annotated[Path | None, typer.Option(help="Also write the whole message here.")] = None,
) -> None:
    """Render the email for a sample change, as a customer with LOCALE would get it."""
    settings = NotifierSettings()
    digest = sample_digest(kind or [ChangeKind.ETA_LATER], locale)
    composer = EmailComposer(settings.shop(), settings.default_locale)
    composed = composer.customer_email(
        digest, notification_id(digest.change_ids), dt.datetime.now(dt.UTC)
    )
    message = email.message_from_bytes(composed.raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        raise TypeError("expected an EmailMessage")
    part = message.get_body(("html",) if html else ("plain",))
    console = Console()
    console.print(f"[bold]Subject:[/bold] {composed.subject}")
    console.print(f"[bold]To:[/bold] {message['To']}   [bold]Language:[/bold] {composed.language}")
    console.print(
        part.get_content() if part is not None else "",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if eml is not None:
        eml.write_bytes(composed.raw)
