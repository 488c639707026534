"""Ledger throughput: observations through RabbitMQ into the ledger, beside its baselines.

One run measures, on the same generated data (``--items`` known items, ``--runs`` full scrape
runs, ``--changing`` percent of the items moving their ETA in each run after the first):

- ceiling: a FastStream consumer per partition queue that only decodes and acks (same quorum
  queues with single active consumer, same prefetch), one handler call and one ack per message;
- ceiling read as the ledger reads: the ledger's own consumer (one reader per queue in delivery
  order, batches, one ``multiple`` ack per batch) over a ledger that stores nothing;
- naive: per observation load the aggregate, compare, save if changed, ack (on a sample);
- ledger over RabbitMQ: the real ``LedgerConsumer`` (batches, one atomic save, acks after);
- ledger alone: the same batches handed straight to ``Ledger.handle_batch`` (no broker);
- memory: resident memory of the ledger's in-memory state per known item (100k and 1M items,
  each measured in a fresh process).

Runs are published before each measured consumer starts, so publishing is not timed and does
not compete for the two cores. Every figure is printed with the ratios; nothing is assumed.

    uv run python bench/ledger_throughput.py --items 100000 --runs 10
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
from faststream.rabbit.schemas import Channel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from etawatch_testing.infra import postgres_database, rabbit_vhost

from etawatch.contracts.base import Message
from etawatch.contracts.envelope import Envelope, dataschema_for, open_envelope
from etawatch.contracts.eta import parse_eta
from etawatch.contracts.ids import item_id, observation_id, run_event_id
from etawatch.contracts.messages import (
    ItemAvailabilityObserved,
    ScrapeRunCompleted,
    ScrapeRunStarted,
)
from etawatch.contracts.topology import (
    OBSERVATION_PARTITIONS,
    SCRAPE_EXCHANGE,
    ledger_observation_queue,
    ledger_queues,
    partition_of,
)
from etawatch.ledger.application.service import Ledger, LedgerOptions, Rejected
from etawatch.ledger.application.store import LedgerStore
from etawatch.ledger.domain.index import LedgerIndex
from etawatch.ledger.domain.item import SupplierItem
from etawatch.ledger.domain.values import eta_to_dict
from etawatch.ledger.entrypoints.stream import ConsumerOptions, LedgerConsumer
from etawatch.runtime.rabbit import declare_topology, queue

SUPPLIER = "bench"
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
TODAY = START.date()
ETA_TEXTS = [f"{month:02d}/2027" for month in range(1, 13)]
ETAS = {text: eta_to_dict(parse_eta(text, TODAY)) for text in ETA_TEXTS}


# --- data --------------------------------------------------------------------------------------


@dataclass
class Run:
    run_id: uuid.UUID
    at: dt.datetime
    etas: list[int]


def runs(items: int, count: int, changing: float, seed: int = 7) -> Iterator[Run]:
    rng = random.Random(seed)
    etas = [rng.randrange(12) for _ in range(items)]
    for n in range(count):
        if n:
            for i in rng.sample(range(items), int(items * changing / 100)):
                etas[i] = (etas[i] + 1) % 12
        yield Run(uuid.UUID(int=rng.getrandbits(128)), START + dt.timedelta(hours=n), list(etas))


def sku(i: int) -> str:
    return f"SKU-{i:07d}"


def envelope(data: dict[str, Any], ce_type: str, schema: str, eid: str, at: str) -> bytes:
    body = {
        "specversion": "1.0",
        "id": eid,
        "source": "/bench",
        "type": ce_type,
        "time": at,
        "dataschema": schema,
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def messages(run: Run, only: range | None = None) -> Iterator[tuple[str, bytes]]:
    """``(routing key, body)`` of a whole run: start, every row, completion."""
    at = run.at.isoformat()
    yield (
        f"run.started.{SUPPLIER}",
        envelope(
            {"run_id": str(run.run_id), "supplier": SUPPLIER, "profile": "bench", "started_at": at},
            ScrapeRunStarted.ce_type(),
            dataschema_for(ScrapeRunStarted),
            str(run_event_id(run.run_id, "started")),
            at,
        ),
    )
    obs_type, obs_schema = (
        ItemAvailabilityObserved.ce_type(),
        dataschema_for(ItemAvailabilityObserved),
    )
    indexes = only if only is not None else range(len(run.etas))
    for position, i in enumerate(indexes):
        s = sku(i)
        text = ETA_TEXTS[run.etas[i]]
        data = {
            "run_id": str(run.run_id),
            "supplier": SUPPLIER,
            "sku": s,
            "name": f"Collectible figure number {i}",
            "availability": "pre_order",
            "availability_raw": "Předobjednávka",
            "eta": ETAS[text],
            "observed_at": at,
            "position": position,
        }
        key = f"observed.p{partition_of(SUPPLIER, s)}.{SUPPLIER}"
        yield (
            key,
            envelope(data, obs_type, obs_schema, str(observation_id(run.run_id, SUPPLIER, s)), at),
        )
    finished = (run.at + dt.timedelta(minutes=30)).isoformat()
    yield (
        f"run.completed.{SUPPLIER}",
        envelope(
            {
                "run_id": str(run.run_id),
                "supplier": SUPPLIER,
                "started_at": at,
                "finished_at": finished,
                "items_seen": len(indexes),
                "pages": 1,
                "complete": True,
            },
            ScrapeRunCompleted.ce_type(),
            dataschema_for(ScrapeRunCompleted),
            str(run_event_id(run.run_id, "completed")),
            finished,
        ),
    )


def per_partition(run: Run, only: range | None = None) -> list[list[Any]]:
    """The run as each partition queue sees it, decoded (for the ledger without the broker)."""
    parts: list[list[Any]] = [[] for _ in range(OBSERVATION_PARTITIONS)]
    for key, body in messages(run, only):
        decoded = open_envelope(body)
        if key.startswith("observed.p"):
            parts[int(key.split(".")[1][1:])].append(decoded)
        else:
            for part in parts:
                part.append(decoded)
    return parts


# --- broker ------------------------------------------------------------------------------------


async def publish(url: str, run: Run, only: range | None = None) -> int:
    connection = await aio_pika.connect(url)
    sent = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(SCRAPE_EXCHANGE)
        pending: list[Any] = []
        for key, body in messages(run, only):
            message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            pending.append(exchange.publish(message, routing_key=key))
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                sent += len(pending)
                pending = []
        await asyncio.gather(*pending)
        sent += len(pending)
    return sent


async def declare(url: str) -> None:
    async with RabbitBroker(url, logger=None) as broker:
        await broker.connect()
        await declare_topology(broker, ledger_queues())


async def wait_for(condition: Callable[[], bool], limit: float) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(0.02)


def partition_consumer(
    url: str, prefetch: int, on_message: Callable[[bytes], Awaitable[None]]
) -> RabbitBroker:
    """A FastStream subscriber per partition queue: handle the body, then ack."""
    broker = RabbitBroker(url, logger=None)
    for p in range(OBSERVATION_PARTITIONS):

        @broker.subscriber(
            queue(ledger_observation_queue(p)),
            ack_policy=AckPolicy.MANUAL,
            channel=Channel(prefetch_count=prefetch),
            no_reply=True,
        )
        async def handle(msg: RabbitMessage) -> None:
            await on_message(msg.body)
            await msg.ack()

    return broker


async def ceiling(url: str, run: Run, prefetch: int) -> tuple[int, float]:
    """Decode and ack only, with the same queues and prefetch."""
    expected = await publish(url, run) + 2 * (OBSERVATION_PARTITIONS - 1)
    seen = 0

    async def decode(body: bytes) -> None:
        nonlocal seen
        open_envelope(body)
        seen += 1

    broker = partition_consumer(url, prefetch, decode)
    started = time.perf_counter()
    await broker.start()
    await wait_for(lambda: seen >= expected, 3600)
    elapsed = time.perf_counter() - started
    await broker.stop()
    return len(run.etas), elapsed


class DecodeOnlyLedger(Ledger):
    """Counts the batches the consumer hands it and stores nothing: the reading path alone."""

    def __init__(self) -> None:
        super().__init__(LedgerStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
        self.seen = 0

    async def start(self) -> int:
        return 0

    async def handle_batch(
        self,
        envelopes: Sequence[Envelope[Message]],
        partition: int = 0,  # noqa: ARG002 - the consumer's call, nothing stored per partition
    ) -> list[Rejected]:
        self.seen += len(envelopes)
        return []


async def ceiling_same_reading(url: str, run: Run, prefetch: int, batch: int) -> float:
    """Decode and ack only, read the ledger's way: one reader per queue, one ack per batch."""
    expected = await publish(url, run) + 2 * (OBSERVATION_PARTITIONS - 1)
    null = DecodeOnlyLedger()
    options = ConsumerOptions(batch_size=batch, batch_seconds=0.2, prefetch=prefetch, relay=False)
    consumer = LedgerConsumer(null, RabbitBroker(url, logger=None), options)
    started = time.perf_counter()
    await consumer.start()
    await wait_for(lambda: null.seen >= expected, 3600)
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return len(run.etas) / elapsed


async def naive(
    url: str, env: dict[str, str], first: Run, second: Run, sample: int, prefetch: int
) -> float:
    """Per observation: load the aggregate, compare, save if it changed, ack. Times ``second``."""
    store = LedgerStore(env=env)
    only = range(sample)
    done = 0

    def observe(body: bytes) -> None:
        message = open_envelope(body).data
        if not isinstance(message, ItemAvailabilityObserved):
            return
        iid = item_id(message.supplier, message.sku)
        eta = eta_to_dict(message.eta)
        try:
            item: SupplierItem = store.repository.get(iid)
        except Exception:
            item = SupplierItem(
                message.supplier,
                message.sku,
                message.name,
                message.availability.value,
                message.availability_raw,
                eta,
                message.observed_at,
                message.run_id,
                observation_id(message.run_id, message.supplier, message.sku),
            )
            store.save(item)
            return
        if item.eta != eta:
            obs = observation_id(message.run_id, message.supplier, message.sku)
            item.change_eta(item.eta, eta, None, None, message.observed_at, message.run_id, obs)
            store.save(item)

    async def count(body: bytes) -> None:
        nonlocal done
        await asyncio.to_thread(observe, body)
        done += 1

    elapsed = 0.0
    for run in (first, second):  # the first run makes the aggregates; the second is timed
        expected = await publish(url, run, only) + 2 * (OBSERVATION_PARTITIONS - 1)
        done = 0
        broker = partition_consumer(url, prefetch, count)
        started = time.perf_counter()
        await broker.start()
        await wait_for(lambda e=expected: done >= e, 3600)  # type: ignore[misc]  # noqa: B023
        elapsed = time.perf_counter() - started
        await broker.stop()
    store.close()
    return sample / elapsed


async def ledger_over_rabbit(
    url: str, env: dict[str, str], all_runs: list[Run], batch: int, prefetch: int
) -> dict[str, float]:
    ledger = Ledger(LedgerStore(env=env), LedgerOptions())
    options = ConsumerOptions(batch_size=batch, batch_seconds=0.2, prefetch=prefetch, relay=False)
    times: list[float] = []
    for n, run in enumerate(all_runs):
        await publish(url, run)
        consumer = LedgerConsumer(ledger, RabbitBroker(url, logger=None), options)
        compared = OBSERVATION_PARTITIONS * (n + 1)
        started = time.perf_counter()
        await consumer.start()
        await wait_for(lambda c=compared: ledger.stats.runs_compared >= c, 3600)  # type: ignore[misc]
        times.append(time.perf_counter() - started)
        await consumer.stop()
        print(f"    run {n}: {len(run.etas) / times[-1]:,.0f} obs/s", flush=True)
    items = len(all_runs[0].etas)
    result = {
        "obs_per_s": items * len(all_runs) / sum(times),
        "later_runs_obs_per_s": items * (len(times) - 1) / sum(times[1:]) if times[1:] else 0.0,
        "events_per_s": ledger.stats.events_written / sum(times),
        "events": float(ledger.stats.events_written),
        "rss_mib": rss_mib(),
    }
    ledger.store.close()
    return result


async def ledger_alone(env: dict[str, str], all_runs: list[Run], batch: int) -> dict[str, float]:
    ledger = Ledger(LedgerStore(env=env), LedgerOptions())
    times: list[float] = []
    for n, run in enumerate(all_runs):
        parts = per_partition(run)
        started = time.perf_counter()
        for p, envelopes in enumerate(parts):
            for i in range(0, len(envelopes), batch):
                await ledger.handle_batch(envelopes[i : i + batch], p)
        times.append(time.perf_counter() - started)
        print(f"    run {n}: {len(run.etas) / times[-1]:,.0f} obs/s", flush=True)
    items = len(all_runs[0].etas)
    result = {
        "obs_per_s": items * len(all_runs) / sum(times),
        "first_run_obs_per_s": items / times[0],
        "later_runs_obs_per_s": items * (len(times) - 1) / sum(times[1:]) if times[1:] else 0.0,
        "events_per_s": ledger.stats.events_written / sum(times),
        "events": float(ledger.stats.events_written),
    }
    ledger.store.close()
    return result


# --- memory ------------------------------------------------------------------------------------


def rss_mib() -> float:
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_per_item(items: int) -> float:
    """Bytes of resident memory per known item in the ledger's index (run in a fresh process)."""
    index = LedgerIndex(OBSERVATION_PARTITIONS)
    first_seen: Any = SupplierItem.FirstSeen
    run = next(runs(items, 1, 0))
    now = dt.datetime.now(dt.UTC)
    before = rss_mib()
    for i in range(items):
        s = sku(i)
        index.apply(
            first_seen(
                originator_id=item_id(SUPPLIER, s),
                originator_version=1,
                timestamp=now,
                originator_topic="x",
                supplier=SUPPLIER,
                sku=s,
                name=f"Collectible figure number {i}",
                availability="pre_order",
                availability_raw="Předobjednávka",
                eta=ETAS[ETA_TEXTS[run.etas[i]]],
                observed_at=now,
                run_id=run.run_id,
                observation_id=run.run_id,
            )
        )
    return (rss_mib() - before) * 2**20 / items


def measure_memory(items: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-only", str(items)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


# --- main --------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    all_runs = list(runs(args.items, args.runs, args.changing))
    print(
        f"ledger throughput: {args.items:,} items x {args.runs} runs = "
        f"{args.items * args.runs:,} observations, {args.changing}% changing per run, "
        f"batch {args.batch}, prefetch {args.prefetch}",
        flush=True,
    )
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        vhost = stack.enter_context(rabbit_vhost("etawatch-bench"))
        await declare(vhost.url)
        for store_name in args.stores:
            db_env = _env(stack, store_name)
            results[f"naive_{store_name}"] = await naive(
                vhost.url,
                db_env("naive"),
                all_runs[0],
                all_runs[1],
                min(args.sample, args.items),
                args.prefetch,
            )
            print(f"  naive {store_name}: {results[f'naive_{store_name}']:,.0f} obs/s", flush=True)
            own = await ledger_alone(db_env("alone"), all_runs, args.batch)
            results[f"alone_{store_name}"] = own
            print(f"  ledger alone {store_name}: {own['obs_per_s']:,.0f} obs/s", flush=True)
            # The ceiling right before the ledger's own run over RabbitMQ: the machine is shared,
            # so the two are measured as close together as they can be.
            _, elapsed = await ceiling(vhost.url, all_runs[0], args.prefetch)
            results[f"ceiling_{store_name}"] = args.items / elapsed
            print(f"  ceiling (decode + ack): {args.items / elapsed:,.0f} obs/s", flush=True)
            same = await ceiling_same_reading(vhost.url, all_runs[0], args.prefetch, args.batch)
            results[f"ceiling_same_{store_name}"] = same
            print(f"  ceiling, the ledger's reading (decode + batch ack): {same:,.0f} obs/s")
            n_rabbit = args.runs if store_name == "postgres" else min(args.sqlite_runs, args.runs)
            over = await ledger_over_rabbit(
                vhost.url, db_env("rabbit"), all_runs[:n_rabbit], args.batch, args.prefetch
            )
            results[f"rabbit_{store_name}"] = over
            print(
                f"  ledger over RabbitMQ {store_name}: {over['obs_per_s']:,.0f} obs/s", flush=True
            )

    mem = {n: measure_memory(n) for n in args.memory_items}
    report(args, results, mem)


def _env(stack: ExitStack, store: str) -> Callable[[str], dict[str, str]]:
    def make(purpose: str) -> dict[str, str]:
        if store == "postgres":
            db = stack.enter_context(postgres_database(f"etawatch_bench_{purpose}"))
            return db.env
        folder = Path("var/bench")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ledger-{purpose}-{uuid.uuid4().hex[:8]}.sqlite"

        def remove() -> None:
            for leftover in folder.glob(path.name + "*"):
                leftover.unlink(missing_ok=True)

        stack.callback(remove)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}

    return make


def report(args: argparse.Namespace, r: dict[str, Any], mem: dict[int, float]) -> None:
    print("\n== results ==")
    for store in args.stores:
        over, own, naive_rate = r[f"rabbit_{store}"], r[f"alone_{store}"], r[f"naive_{store}"]
        ceiling_rate, same_rate = r[f"ceiling_{store}"], r[f"ceiling_same_{store}"]
        print(f"-- {store}")
        print(f"ceiling (FastStream decode + ack)       {ceiling_rate:>10,.0f} obs/s")
        print(
            f"ceiling, read as the ledger reads       {same_rate:>10,.0f} obs/s"
            "  (one reader per queue, decode, one ack per batch)"
        )
        print(f"naive (load, compare, save, ack)       {naive_rate:>10,.0f} obs/s")
        print(
            f"ledger over RabbitMQ                   {over['obs_per_s']:>10,.0f} obs/s"
            f"  = {over['obs_per_s'] / ceiling_rate:.0%} of ceiling,"
            f" {over['obs_per_s'] / same_rate:.0%} of the same-reading ceiling,"
            f" {over['obs_per_s'] / naive_rate:.1f}x naive,"
            f" {over['events_per_s']:,.0f} events/s ({over['events']:,.0f} events),"
            f" RSS {over['rss_mib']:.0f} MiB; later runs {over['later_runs_obs_per_s']:,.0f} obs/s"
        )
        print(
            f"ledger alone (no broker)               {own['obs_per_s']:>10,.0f} obs/s"
            f"  = {own['obs_per_s'] / ceiling_rate:.1f}x ceiling,"
            f" {own['events_per_s']:,.0f} events/s; first run (all new)"
            f" {own['first_run_obs_per_s']:,.0f} obs/s, later runs"
            f" {own['later_runs_obs_per_s']:,.0f} obs/s"
        )
    for items, per_item in mem.items():
        print(f"memory of the in-memory state at {items:>9,} items: {per_item:,.0f} bytes/item")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--changing", type=float, default=3.0, help="percent per run")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--prefetch", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=3000, help="observations for naive")
    parser.add_argument("--sqlite-runs", type=int, default=3)
    parser.add_argument("--stores", nargs="+", default=["postgres", "sqlite"])
    parser.add_argument("--memory-items", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--memory-only", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.memory_only:
        print(memory_per_item(arguments.memory_only))
    else:
        asyncio.run(main(arguments))
