"""Query API benchmark: HTTP under load, and rebuild speed against two ceilings, in one run.

1. A ledger store (SQLite files; two PostgreSQL databases with ``--store postgres``) with N
   orders, written with the ledger's own aggregates; the views are built from it.
2. ``GET /v1/orders/{id}`` (random ids, with an API key) against a bare endpoint returning a
   constant, both served by the same uvicorn process and app, loaded from a second process on
   loopback with 32 connections (``wrk`` when installed, else an httpx/asyncio generator).
3. Rebuild of all views (events/s), against reading and decoding the same events with the
   library as it comes (``select_notifications`` + ``mapper.to_domain_event``, with the
   library's ``JSONTranscoder``; the rebuild decodes with ``OrjsonTranscoder``) and a plain
   sequential read of the events table. The rebuild and the library's reading each run in a
   fresh process, as ``etawatch-query-api rebuild`` does: this one keeps the live views' rows,
   which slowed both by a fifth to a third.

    uv run python bench/query_api_load.py [--orders 100000] [--seconds 10] [--no-http]
    uv run python bench/query_api_load.py --store postgres
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONNECTIONS = 32
ETAS = [
    {"raw": f"{m:02d}/2027", "earliest": f"2027-{m:02d}-01", "latest": f"2027-{m:02d}-28",
     "precision": "month"}
    for m in range(1, 13)
]  # fmt: skip


@dataclass(frozen=True)
class Stores:
    """Where the ledger's events and the views are: SQLite files, or two PostgreSQL databases."""

    ledger_env: dict[str, str]
    views_url: str
    plain_sql: str
    """A plain sequential read of the events table."""
    connect: Any
    """A DB-API connection to the ledger's store, for that read."""


def sqlite_stores(folder: Path) -> Stores:
    path = folder / "ledger.db"
    return Stores(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)},
        f"sqlite:///{folder / 'views.db'}",
        "SELECT * FROM stored_events ORDER BY rowid",
        lambda: sqlite3.connect(path),
    )


def postgres_stores(stack: contextlib.ExitStack) -> Stores:
    import psycopg  # noqa: PLC0415

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from etawatch_testing.infra import postgres_database  # noqa: PLC0415

    ledger = stack.enter_context(postgres_database("etawatch_bench_qa_ledger"))
    views = stack.enter_context(postgres_database("etawatch_bench_qa_views"))
    return Stores(
        ledger.env,
        views.url,
        "SELECT * FROM ledger_events ORDER BY notification_id",
        lambda: psycopg.connect(ledger.url),
    )


def fill_ledger(stores: Stores, orders: int, items: int, changed: int) -> int:
    """Items first seen, orders placed (1-3 lines), then ``changed`` items move their ETA."""
    from etawatch.ledger.application.store import LedgerStore  # noqa: PLC0415
    from etawatch.ledger.domain.item import SupplierItem  # noqa: PLC0415
    from etawatch.ledger.domain.order import Order  # noqa: PLC0415

    rng = random.Random(7)
    store = LedgerStore(env=stores.ledger_env)
    now = dt.datetime.now(dt.UTC)
    run = uuid.uuid4()
    stock = []
    for n in range(items):
        stock.append(
            SupplierItem(
                supplier="acme", sku=f"SKU-{n:05d}", name=f"Figure {n}",
                availability="pre_order", availability_raw="Předobjednávka",
                eta=ETAS[n % 12], observed_at=now, run_id=run, observation_id=uuid.uuid4(),
            )
        )  # fmt: skip
    store.save(*stock)
    batch = []
    for n in range(orders):
        lines = [
            {"supplier": "acme", "sku": f"SKU-{rng.randrange(items):05d}", "name": "Figure",
             "quantity": rng.randint(1, 3)}
            for _ in range(rng.randint(1, 3))
        ]  # fmt: skip
        unique = list({line["sku"]: line for line in lines}.values())
        batch.append(
            Order(
                shop_order_id=f"O-{n:06d}", placed_at=now, customer_id=f"c-{n % 20000}",
                email=f"c{n}@example.com", customer_name="Zákazník", locale="cs", lines=unique,
            )
        )  # fmt: skip
        if len(batch) == 2000:
            store.save(*batch)
            batch = []
    store.save(*batch)
    for item in stock[:changed]:
        later = ETAS[(ETAS.index(item.eta) + 2) % 12]
        item.change_eta(
            previous_eta=item.eta, eta=later, shift="later", shift_days=61, observed_at=now,
            run_id=run, observation_id=uuid.uuid4(),
        )  # fmt: skip
    store.save(*stock[:changed])
    head = store.recorder.max_notification_id() or 0
    store.close()
    return head


def settings_for(stores: Stores) -> Any:
    from pydantic import SecretStr  # noqa: PLC0415

    from etawatch.query_api.config import QueryApiSettings  # noqa: PLC0415

    return QueryApiSettings(
        views_url=SecretStr(stores.views_url),
        project_in_background=False,
        log_level="WARNING",
    )


def build_api(stores: Stores) -> Any:
    from etawatch.query_api.bootstrap import build  # noqa: PLC0415
    from etawatch.runtime.bus import InMemoryBus  # noqa: PLC0415

    return build(settings_for(stores), bus=InMemoryBus(), ledger_env=stores.ledger_env)


# --- rebuild against its ceilings --------------------------------------------------------------


def plain_read(stores: Stores) -> tuple[int, float]:
    conn = stores.connect()
    started = time.perf_counter()
    rows = 0
    cursor = conn.cursor()
    cursor.execute(stores.plain_sql)
    while chunk := cursor.fetchmany(1000):
        rows += len(chunk)
    seconds = time.perf_counter() - started
    conn.close()
    return rows, seconds


def library_read_decode(api: Any) -> tuple[int, float]:
    """Without the cyclic garbage collector, as the rebuild runs."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _library_read_decode(api)
    finally:
        if enabled:
            gc.enable()


def _library_read_decode(api: Any) -> tuple[int, float]:
    """The library as it comes: the ledger's store with the library's own ``JSONTranscoder``
    (the query API reads the same events with ``OrjsonTranscoder``, part of what is measured)."""
    from eventsourcing.persistence import JSONTranscoder  # noqa: PLC0415

    from etawatch.ledger.application.store import LedgerStore, open_read_only  # noqa: PLC0415

    store = open_read_only(api.source.env, LedgerStore)
    try:
        recorder, mapper = store.recorder, store.mapper
        if type(mapper.transcoder) is not JSONTranscoder:
            raise RuntimeError(f"the ceiling needs the library's transcoder: {mapper.transcoder}")
        started = time.perf_counter()
        position, events = 0, 0
        while batch := recorder.select_notifications(position, 1000, inclusive_of_start=False):
            for notification in batch:
                mapper.to_domain_event(notification)
            events += len(batch)
            position = batch[-1].id
        return events, time.perf_counter() - started
    finally:
        store.close()


class Timed:
    """Wraps the projector's event source or view store and adds up the time of one method."""

    def __init__(self, inner: Any, method: str) -> None:
        self.inner, self.method, self.seconds = inner, method, 0.0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if name != self.method:
            return found

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return found(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def measure_apart(kind: str, stores: Stores, *, read_ahead_on: bool = True) -> dict[str, Any]:
    """``kind`` (``rebuild`` or ``library``) measured in a fresh process of this script."""
    args = [sys.executable, __file__, "--measure", kind, json.dumps(stores.ledger_env)]
    args += [stores.views_url] + ([] if read_ahead_on else ["--no-read-ahead"])
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(kind: str, ledger_env: dict[str, str], views_url: str, read_ahead_on: bool) -> None:
    """In the fresh process: print the figures of ``kind`` as one line of JSON."""
    api = build_api(Stores(ledger_env, views_url, "", None))
    try:
        if kind == "library":
            events, seconds = library_read_decode(api)
            print(json.dumps({"events": events, "seconds": seconds}))
            return
        events, seconds, equal, split = rebuild_all(api, read_ahead_on=read_ahead_on)
        print(json.dumps({"events": events, "seconds": seconds, "equal": equal, "split": split}))
    finally:
        api.close()


def rebuild_all(
    api: Any, *, read_ahead_on: bool = True
) -> tuple[int, float, bool, dict[str, float]]:
    """Rebuild every view as ``etawatch-query-api rebuild`` does; also where the time went."""
    from etawatch.query_api.adapters.read_ahead import read_ahead  # noqa: PLC0415
    from etawatch.query_api.application.rebuild import rebuild  # noqa: PLC0415

    settings = api.settings  # what `etawatch-query-api rebuild` uses
    api.source.translator._names.clear()  # a fresh process knows no aggregate yet
    started = time.perf_counter()
    with read_ahead(api.source, settings.rebuild_batch_size, enabled=read_ahead_on) as ahead:
        source = Timed(ahead, "read")
        result = rebuild(
            source,
            api.views,
            api.projector.projections,
            batch_size=settings.rebuild_batch_size,
            cache_rows=settings.rebuild_cache_rows,
        )
    wall = time.perf_counter() - started
    split = {
        (
            "read (waiting for the reading process, decoding its batches)"
            if read_ahead_on
            else "read, decode, translate"
        ): source.seconds,
        "apply, write the staged copies": result.seconds - source.seconds,
        "checksums of the copies (making the values the swap writes), then the swap with the "
        "indexes (SQLite: the old tables dropped meanwhile)": result.swap_seconds,
        # The rest of the wall time: the live views' checksums, and also setting the copies up
        # and dropping them (the rows held freed) and the reading process's start and end.
        "(not counted: the live views' checksums, the copies' setup and drop)": (
            wall - result.seconds - result.swap_seconds
        ),
    }
    return result.events, result.seconds + result.swap_seconds, result.equal, split


# --- HTTP ----------------------------------------------------------------------------------------


def serve(ledger_env: dict[str, str], views_url: str, port: int) -> None:
    """Run in the server process: the query API's app plus a bare constant endpoint."""
    import uvicorn  # noqa: PLC0415

    from etawatch.query_api.entrypoints.api.app import create_app  # noqa: PLC0415

    stores = Stores(ledger_env, views_url, "", None)
    app = create_app(build_api(stores), run_projector=False, freeze_start_up=True)  # as `serve`

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
        loop="uvloop", http="httptools",
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(port: int) -> None:
    import httpx  # noqa: PLC0415

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not come up")


WRK_SCRIPT = """
math.randomseed(42)
local n = %d
request = function()
  return wrk.format("GET", string.format("/v1/orders/O-%%06d", math.random(0, n - 1)))
end
"""


def wrk(url: str, seconds: int, token: str, orders: int | None, folder: Path) -> dict[str, float]:
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    args += ["-H", f"Authorization: Bearer {token}"]
    if orders is not None:
        script = folder / "orders.lua"
        script.write_text(WRK_SCRIPT % orders)
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(pct: str) -> float:
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": rps, "p50_ms": latency("50"), "p99_ms": latency("99"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }  # fmt: skip


def python_load(
    url: str, seconds: int, token: str, orders: int | None, _folder: Path
) -> dict[str, float]:
    """Fallback when wrk is not installed: an httpx/asyncio generator in this (second) process."""
    import httpx  # noqa: PLC0415

    async def run() -> tuple[list[float], int, float]:
        latencies: list[float] = []
        errors = 0
        rng = random.Random(42)
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=CONNECTIONS)
        # A request that times out or whose connection fails counts as an error, with the time
        # it took.
        timeout = httpx.Timeout(30.0)
        async with httpx.AsyncClient(limits=limits, headers=headers, timeout=timeout) as client:
            stop = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < stop:
                    path = url if orders is None else f"{url}O-{rng.randrange(orders):06d}"
                    started = time.perf_counter()
                    try:
                        response = await client.get(path)
                        errors += response.status_code != 200
                    except httpx.TransportError:
                        errors += 1
                    latencies.append((time.perf_counter() - started) * 1000)

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
            return latencies, errors, time.perf_counter() - began

    latencies, errors, elapsed = asyncio.run(run())
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": cuts[49],
        "p99_ms": cuts[98],
        "errors": errors,
    }


def median_round(results: list[dict[str, float]]) -> dict[str, float]:
    return sorted(results, key=lambda r: r["rps"])[len(results) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--changed", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--no-http", action="store_true", help="Measure the rebuild only (quicker iterations)."
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="Where the ledger and the views are (postgres: two databases made for the run and "
        "dropped after).",
    )
    parser.add_argument(
        "--no-read-ahead",
        action="store_true",
        help="Rebuild in one process (ETAWATCH_REBUILD_READ_AHEAD=false), as on one CPU core.",
    )
    parser.add_argument(
        "--rebuild-rounds", type=int, default=3, help="Rebuilds, each beside a ceiling's run."
    )
    parser.add_argument(
        "--reads-in-flight",
        type=int,
        default=None,
        help="The server's ETAWATCH_ORDER_READS_IN_FLIGHT (default: its own; 0: each request "
        "reads its order itself, as before orders asked for at once were read together).",
    )
    parser.add_argument(
        "--serve", nargs=3, metavar=("LEDGER_ENV", "VIEWS_URL", "PORT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--measure", nargs=3, metavar=("KIND", "LEDGER_ENV", "VIEWS_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(json.loads(args.serve[0]), args.serve[1], int(args.serve[2]))
        return
    if args.measure:
        os.environ.setdefault("ETAWATCH_LOG_LEVEL", "WARNING")
        kind, ledger_env, views_url = args.measure
        measure(kind, json.loads(ledger_env), views_url, not args.no_read_ahead)
        return
    os.environ.setdefault("ETAWATCH_LOG_LEVEL", "WARNING")
    folder = Path(tempfile.mkdtemp(prefix="etawatch-bench-"))
    stack = contextlib.ExitStack()
    try:
        started = time.perf_counter()
        stores = postgres_stores(stack) if args.store == "postgres" else sqlite_stores(folder)
        head = fill_ledger(stores, args.orders, args.items, args.changed)
        print(f"ledger: {head:,} events ({args.orders:,} orders, {args.items:,} items, "
              f"{args.changed:,} ETA changes), {time.perf_counter() - started:.0f} s")  # fmt: skip
        api = build_api(stores)
        started = time.perf_counter()
        api.project_once_sync()
        print(f"views built live in {time.perf_counter() - started:.1f} s")

        # The ceilings and the rebuild take turns, ``--rebuild-rounds`` times (a ceiling first and
        # after each rebuild); the best of each is used: the machine's noise only ever slows a
        # run down, so the best runs are the ones it disturbed least, on either side.
        ceilings: dict[str, list[float]] = {"plain": [], "library": []}
        rebuilds: list[tuple[float, bool, dict[str, float]]] = []
        for turn in range(args.rebuild_rounds + 1):
            if turn:
                done = measure_apart("rebuild", stores, read_ahead_on=not args.no_read_ahead)
                rate = done["events"] / done["seconds"]
                rebuilds.append((rate, done["equal"], done["split"]))
                print(f"  round {turn}: rebuild {rate:,.0f} events/s")
            rows, plain_s = plain_read(stores)
            library = measure_apart("library", stores)
            ceilings["plain"].append(rows / plain_s)
            ceilings["library"].append(library["events"] / library["seconds"])
            print(f"  library read-and-decode {ceilings['library'][-1]:,.0f} events/s")
        plain_rate, lib_rate = max(ceilings["plain"]), max(ceilings["library"])
        rebuild_rate, _, split = max(rebuilds, key=lambda r: r[0])
        equal = all(r[1] for r in rebuilds)
        print(f"\nrebuild (all three views, {args.store}; best of {args.rebuild_rounds} rounds)")
        print(f"  plain sequential read of the events table: {plain_rate:>10,.0f} rows/s")
        print(f"  library select_notifications + to_domain_event: {lib_rate:>10,.0f} events/s")
        print(f"  rebuild (read, decode, apply, write views): {rebuild_rate:>10,.0f} events/s")
        print(
            f"  rebuild / library read-and-decode = {rebuild_rate / lib_rate:.2f} (target >= 0.40)"
        )
        print(f"  rebuild / plain read = {rebuild_rate / plain_rate:.2f}")
        print(f"  rebuilt views equal to the live ones (every round): {equal}")
        print("  where the best rebuild's time went: " + ", ".join(
            f"{phase} {t:.2f} s" for phase, t in split.items()
        ))  # fmt: skip

        from etawatch.query_api.application.auth import create_key  # noqa: PLC0415
        from etawatch.query_api.domain.keys import Scope  # noqa: PLC0415

        if args.no_http:
            api.close()
            return
        token = create_key(api.keys, {Scope.READ}, "bench")
        api.close()
        port = free_port()
        serve_args = ["--serve", json.dumps(stores.ledger_env), stores.views_url, str(port)]
        server_env = {**os.environ, "ETAWATCH_LOG_LEVEL": "WARNING"}
        if args.reads_in_flight is not None:
            server_env["ETAWATCH_ORDER_READS_IN_FLIGHT"] = str(args.reads_in_flight)
        server = subprocess.Popen([sys.executable, __file__, *serve_args], env=server_env)
        try:
            wait_until_up(port)
            load = wrk if shutil.which("wrk") else python_load
            base = f"http://127.0.0.1:{port}"
            load(f"{base}/bare", 2, token, None, folder)  # warm up both routes
            load(f"{base}/v1/orders/", 2, token, args.orders, folder)
            rounds: dict[str, list[dict[str, float]]] = {"bare": [], "orders": []}
            for _ in range(args.rounds):  # alternate, so both see the same machine noise
                rounds["bare"].append(load(f"{base}/bare", args.seconds, token, None, folder))
                rounds["orders"].append(
                    load(f"{base}/v1/orders/", args.seconds, token, args.orders, folder)
                )
            bare = median_round(rounds["bare"])
            orders = median_round(rounds["orders"])
        finally:
            server.terminate()
            server.wait(timeout=30)
        name = "wrk" if load is wrk else "httpx/asyncio"
        print(f"\nHTTP ({args.store}), {CONNECTIONS} connections from a second process ({name}), "
              f"{args.rounds} alternating rounds of {args.seconds} s, median round, "
              "one uvicorn worker, order reads in flight: "
              f"{'default' if args.reads_in_flight is None else args.reads_in_flight}")  # fmt: skip
        for label, r in (("bare constant", bare), ("GET /v1/orders/{id}", orders)):
            print(f"  {label:<20} {r['rps']:>9,.0f} req/s  p50 {r['p50_ms']:6.2f} ms  "
                  f"p99 {r['p99_ms']:6.2f} ms  non-2xx {r['errors']:.0f}")  # fmt: skip
        print(
            f"  throughput ratio (orders / bare) = {orders['rps'] / bare['rps']:.2f} "
            "(target >= 0.5)"
        )
        print(
            f"  p99 ratio (orders / bare) = {orders['p99_ms'] / bare['p99_ms']:.2f} (target <= 2)"
        )
        print(json.dumps({"rebuild_events_per_s": round(rebuild_rate),
                          "library_events_per_s": round(lib_rate),
                          "plain_rows_per_s": round(plain_rate),
                          "bare": bare, "orders": orders}))  # fmt: skip
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
