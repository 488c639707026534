"""`etawatch up`: every service against real infrastructure, for a single-server installation.

Each service runs as its own child process with its own console script (exactly what the
distributed mode runs), configured from one set of flags or environment variables. Their output
is shown with the service's name in front. Ctrl-C (or SIGTERM) stops them all cleanly; if one of
them stops on its own, the others are stopped too and its exit code is returned, so that the
process manager above (systemd, a container runtime) can restart the whole.
"""

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console

COLOURS = {"ledger": "cyan", "notifier": "magenta", "query-api": "green", "scraper": "yellow"}
STOP_GRACE_SECONDS = 20.0


@dataclass(frozen=True)
class UpOptions:
    amqp_url: SecretStr
    database_url: SecretStr
    smtp_url: SecretStr | None = None
    profile: str | None = None
    every: str = "30m"
    jitter: str = "5m"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    data_dir: Path = Path("var")
    environment: str = "development"


@dataclass(frozen=True)
class Child:
    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]


def _script(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (run `uv sync`)")
    return found


def children(options: UpOptions, base_env: Mapping[str, str] | None = None) -> list[Child]:
    """The service processes and their environment (secrets passed by environment only)."""
    common = {
        **(base_env if base_env is not None else os.environ),
        "ETAWATCH_ENVIRONMENT": options.environment,
        "ETAWATCH_AMQP_URL": options.amqp_url.get_secret_value(),
        "ETAWATCH_DATABASE_URL": options.database_url.get_secret_value(),
    }
    notifier = {
        **common,
        "ETAWATCH_OUTBOX_DIR": str(options.data_dir / "outbox"),
        "ETAWATCH_DELIVERY": "smtp" if options.smtp_url else "outbox",
    }
    if options.smtp_url is not None:
        notifier["ETAWATCH_SMTP_URL"] = options.smtp_url.get_secret_value()
    found = [
        Child("ledger", (_script("etawatch-ledger"), "run"), {**common}),
        Child("notifier", (_script("etawatch-notifier"), "run"), notifier),
        Child(
            "query-api",
            (_script("etawatch-query-api"), "serve"),
            {
                **common,
                "ETAWATCH_VIEWS_URL": options.database_url.get_secret_value(),
                "ETAWATCH_HOST": options.api_host,
                "ETAWATCH_PORT": str(options.api_port),
            },
        ),
    ]
    if options.profile:
        found.append(
            Child(
                "scraper",
                (
                    _script("etawatch-scraper"),
                    "schedule",
                    "--profile",
                    options.profile,
                    "--every",
                    options.every,
                    "--jitter",
                    options.jitter,
                ),
                {**common, "ETAWATCH_DATA_DIR": str(options.data_dir / "scraper")},
            )
        )
    return found


async def _pump(name: str, stream: asyncio.StreamReader, console: Console) -> None:
    colour = COLOURS.get(name, "white")
    while line := await stream.readline():
        console.print(
            f"[{colour}]{name:>9}[/{colour}] {line.decode(errors='replace').rstrip()}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )


async def supervise(kids: Sequence[Child], console: Console) -> int:
    """Run the children until one stops or we are told to stop; return an exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    procs: dict[str, asyncio.subprocess.Process] = {}
    pumps: list[asyncio.Task[None]] = []
    try:
        for kid in kids:
            proc = await asyncio.create_subprocess_exec(
                *kid.argv,
                env=dict(kid.env),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            )
            procs[kid.name] = proc
            assert proc.stdout is not None  # PIPE was asked for
            pumps.append(asyncio.create_task(_pump(kid.name, proc.stdout, console)))
            console.print(f"[bold]started[/bold] {kid.name} (pid {proc.pid})")
        waits = {asyncio.create_task(p.wait()): name for name, p in procs.items()}
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*waits, stopper], return_when=asyncio.FIRST_COMPLETED)
        code = 0
        for task in done:
            if task in waits:
                code = task.result() or 1
                console.print(f"[red]{waits[task]} stopped with exit code {task.result()}[/red]")
        stopper.cancel()
        return code
    finally:
        await _stop_all(procs, console)
        for pump in pumps:
            pump.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _stop_all(procs: Mapping[str, asyncio.subprocess.Process], console: Console) -> None:
    for proc in procs.values():
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for name, proc in procs.items():
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            console.print(f"[red]{name} did not stop in {STOP_GRACE_SECONDS:.0f} s; killed[/red]")
            proc.kill()
            await proc.wait()
