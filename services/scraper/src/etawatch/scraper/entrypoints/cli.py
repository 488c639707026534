"""The ``etawatch-scraper`` command: one run for a CronJob, or a schedule for a VPS or the demo."""

import asyncio
import datetime as dt
import random
import signal
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry, pushadd_to_gateway, start_http_server
from rich.console import Console

from etawatch.runtime.cli import service_app, start_logging
from etawatch.runtime.log import get_logger
from etawatch.scraper.adapters.metrics import ScraperMetrics, last_run
from etawatch.scraper.adapters.profiles import load_profile, shipped_profiles
from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.application.schedule import parse_duration, run_schedule
from etawatch.scraper.bootstrap import Scraper, rabbit_bus
from etawatch.scraper.config import ScraperSettings
from etawatch.scraper.domain.profile import Profile, ProfileError

app = service_app("etawatch-scraper", __doc__, ScraperSettings)
log = get_logger(__name__)
console = Console(stderr=True)

ProfileOption = Annotated[
    str, typer.Option("--profile", "-p", help="A shipped profile's name or a .toml file.")
]


def _profile(name: str) -> Profile:
    try:
        return load_profile(name)
    except ProfileError as exc:
        console.print(f"[red]bad profile[/red]: {exc}")
        raise typer.Exit(2) from exc


def _summary(outcome: RunOutcome) -> None:
    if outcome.ok and outcome.report:
        report = outcome.report
        console.print(
            f"[green]completed[/green] {outcome.supplier}: {report.items_seen} items on "
            f"{report.pages} page(s); unknown availability {report.unknown_availability}, "
            f"unreadable ETA {report.unreadable_eta}, duplicates {report.duplicate_skus} "
            f"({outcome.duration_seconds:.1f} s)"
        )
    else:
        reason = outcome.reason.value if outcome.reason else "?"
        console.print(f"[red]failed[/red] {outcome.supplier}: {reason}: {outcome.message}")
        for artifact in outcome.artifacts:
            console.print(f"  artifact: {artifact}")


@app.command()
def once(
    profile: ProfileOption,
    accept_drop: Annotated[
        bool, typer.Option(help="Accept a table much shorter than the last complete run.")
    ] = False,
) -> None:
    """Scrape once and publish; exit 1 when the run failed or RabbitMQ does not answer (what a
    CronJob calls)."""
    loaded = _profile(profile)
    settings = ScraperSettings()
    start_logging(settings)

    async def main() -> RunOutcome:
        async with rabbit_bus(settings) as bus:
            return await Scraper(loaded, settings, bus).run_once(accept_drop=accept_drop)

    outcome: RunOutcome | None = None
    try:
        outcome = asyncio.run(main())
    except ConnectionError as exc:  # nothing was read or published
        console.print(f"failed: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    finally:
        if settings.pushgateway_url:
            _push(settings.pushgateway_url, loaded, last_run(outcome, dt.datetime.now(dt.UTC)))
    _summary(outcome)
    if not outcome.ok:
        raise typer.Exit(1)


def _push(url: str, profile: Profile, registry: CollectorRegistry) -> None:
    """Add the run's gauges to the Pushgateway (``last_run`` says which stay from earlier runs);
    a gateway that is down costs the metrics only."""
    try:
        pushadd_to_gateway(
            url, job="etawatch-scraper", grouping_key={"profile": profile.name},
            registry=registry, timeout=10,
        )  # fmt: skip
    except OSError as exc:
        log.warning("metrics not pushed", pushgateway=url, error=str(exc))


@app.command()
def schedule(
    profile: ProfileOption,
    every: Annotated[str, typer.Option(help="Time between runs, e.g. 30m.")] = "30m",
    jitter: Annotated[str, typer.Option(help="Up to this much more, e.g. 5m.")] = "5m",
) -> None:
    """Scrape now and then every --every (+ up to --jitter), until stopped."""
    loaded = _profile(profile)
    try:
        every_s, jitter_s = parse_duration(every), parse_duration(jitter)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    settings = ScraperSettings()
    start_logging(settings)
    metrics = ScraperMetrics()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, registry=metrics.registry)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with rabbit_bus(settings) as bus:
            scraper = Scraper(loaded, settings, bus, metrics=metrics)

            async def step() -> RunOutcome:
                outcome = await scraper.run_once()
                _summary(outcome)
                return outcome

            await run_schedule(
                step,
                every=every_s,
                jitter=jitter_s,
                stop=stop,
                rng=random.Random(),  # noqa: S311
            )

    try:
        asyncio.run(main())
    except ConnectionError as exc:
        console.print(f"stopped: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from exc


@app.command("profiles")
def list_profiles() -> None:
    """List the shipped profiles."""
    for name, path in shipped_profiles().items():
        loaded = _profile(str(path))
        typer.echo(f"{name}\t{loaded.portal.mode.value}\t{loaded.description}")


@app.command("check-profile")
def check_profile(profile: ProfileOption) -> None:
    """Load a profile and say what it expects, or exactly what is wrong with it (exit 2)."""
    loaded = _profile(profile)
    typer.echo(f"{loaded.name}: supplier {loaded.supplier}, mode {loaded.portal.mode.value}")
    if loaded.export is not None:
        typer.echo(f"  export: {loaded.export.format.value} from {loaded.export.path}")
    for field, texts in loaded.columns.expected().items():
        typer.echo(f"  column {field}: {' / '.join(texts)}")
