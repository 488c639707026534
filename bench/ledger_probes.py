"""How stale the ledger's heartbeat gets, and how fast its probes answer, under a backlog.

The liveness threshold (``ETAWATCH_LIVENESS_STALE_SECONDS``) must sit far above the longest gap
between two heartbeats of a ledger that works normally, or a busy ledger gets restarted. This
publishes whole scrape runs first, starts ``etawatch-ledger run`` on PostgreSQL against that
backlog, and asks ``/healthz`` and ``/readyz`` every 50 ms until every run is compared; then
the same for a few seconds of idling, as the baseline.

    uv run python bench/ledger_probes.py --items 20000 --runs 3
"""

import argparse
import asyncio
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etawatch_testing.infra import postgres_database, rabbit_vhost
from etawatch_testing.smtp import free_port

from bench.ledger_throughput import declare, publish, runs
from etawatch.contracts.topology import OBSERVATION_PARTITIONS

COMPARED = re.compile(r'^etawatch_ledger_runs_total\{outcome="compared"\} (\S+)$', re.M)


class Samples:
    def __init__(self) -> None:
        self.ages: list[float] = []
        self.live_ms: list[float] = []
        self.ready_ms: list[float] = []
        self.not_ready = 0
        self.why: dict[str, int] = {}

    def line(self, label: str) -> str:
        def top(values: list[float]) -> str:
            ordered = sorted(values)
            p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0
            return f"p99 {p99:7.1f}, max {max(values, default=0.0):7.1f}"

        return (
            f"{label:<22} {len(self.ages):>5} probes; heartbeat age s: max"
            f" {max(self.ages, default=0.0):.3f}; /healthz ms {top(self.live_ms)};"
            f" /readyz ms {top(self.ready_ms)}; /readyz 503: {self.not_ready} {self.why or ''}"
        )


async def sample(client: httpx.AsyncClient, url: str, into: Samples) -> None:
    started = time.perf_counter()
    live = await client.get(f"{url}/healthz")
    into.live_ms.append((time.perf_counter() - started) * 1000)
    into.ages.append(live.json()["heartbeat_age_seconds"])
    started = time.perf_counter()
    ready = await client.get(f"{url}/readyz")
    into.ready_ms.append((time.perf_counter() - started) * 1000)
    if ready.status_code != 200:
        into.not_ready += 1
        failing = {k: v for k, v in ready.json()["checks"].items() if v != "ok"}
        into.why[str(failing)] = into.why.get(str(failing), 0) + 1


async def compared(client: httpx.AsyncClient, url: str) -> float:
    found = COMPARED.search((await client.get(f"{url}/metrics")).text)
    return float(found.group(1)) if found else 0.0


async def main(args: argparse.Namespace) -> None:
    with (
        postgres_database("etawatch_bench_probes") as db,
        rabbit_vhost("etawatch-bench-probes") as vhost,
    ):
        await declare(vhost.url)
        published = 0
        for run in runs(args.items, args.runs, args.changing):
            published += await publish(vhost.url, run)
        print(f"published {published:,} messages ({args.runs} runs of {args.items:,} items)")
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ETAWATCH_")},
            "ETAWATCH_AMQP_URL": vhost.url,
            "ETAWATCH_DATABASE_URL": db.url,
            "ETAWATCH_METRICS_PORT": str(port),
            "ETAWATCH_LOG_LEVEL": "WARNING",
        }
        ledger = shutil.which("etawatch-ledger", path=str(Path(sys.executable).parent))
        assert ledger, "etawatch-ledger is not installed: run `uv sync`"
        process = await asyncio.create_subprocess_exec(ledger, "run", env=env)
        url = f"http://127.0.0.1:{port}"
        busy, idle = Samples(), Samples()
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                while True:
                    try:
                        await client.get(f"{url}/healthz")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                started = time.perf_counter()
                goal = OBSERVATION_PARTITIONS * args.runs
                while await compared(client, url) < goal:
                    await sample(client, url, busy)
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
                idle_until = time.perf_counter() + args.idle
                while time.perf_counter() < idle_until:
                    await sample(client, url, idle)
                    await asyncio.sleep(0.05)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        print(f"backlog consumed in {elapsed:.1f} s ({published / elapsed:,.0f} messages/s)")
        print(busy.line("while consuming"))
        print(idle.line("idle afterwards"))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changing", type=float, default=3.0, help="percent per run")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle baseline")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
