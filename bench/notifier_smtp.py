"""10,000 notifications to a local SMTP server: our sender against one connection per message.

Runs, in one go and against the same aiosmtpd server (in its own process, so client and server
each get a core):

1. baseline: ``smtplib``, a new SMTP connection (connect, EHLO, MAIL, RCPT, DATA, QUIT) for every
   message, as a naive sender would;
2. ours: the notifier's SMTP session (aiosmtplib), one connection reused for the whole batch;
3. ours, whole pipeline: ``NotifierService.flush_due`` over 10,000 stored changes (plan each
   order, render Czech/English multipart emails, write the SQLite send log, send, record, publish
   ``CustomerNotified`` to the in-process bus).

The same pre-rendered messages go through 1 and 2. The count is split into rounds and the three
take turns, so a noisy machine slows them alike. Prints messages per second and the ratios.

    uv run python bench/notifier_smtp.py [--count 10000] [--rounds 10]
"""

import argparse
import asyncio
import multiprocessing as mp
import smtplib
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from etawatch_testing.notifier import NOW, PRE, SHOP, change
from etawatch_testing.smtp import SmtpServer, free_port

from etawatch.contracts.messages import ChangeKind
from etawatch.notifier.adapters.smtp import (
    SmtpConfig,
    SmtpSession,
    SmtpTransport,
)
from etawatch.notifier.adapters.sql.database import SqliteDatabase
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.ports import SystemClock
from etawatch.notifier.application.service import DeliveryOptions, NotifierService
from etawatch.notifier.domain.policy import NotificationPolicy
from etawatch.notifier.rendering.compose import EmailComposer
from etawatch.notifier.rendering.samples import sample_digest
from etawatch.runtime.bus import InMemoryBus
from etawatch.runtime.log import configure_logging

SENDER = SHOP.sender


def serve(port: int, commands: Connection) -> None:
    """The SMTP server's process: answers ``count`` and ``stop`` over a pipe."""
    server = SmtpServer(port=port)
    server.keep_bodies(False)
    server.start()
    commands.send("ready")
    while True:
        command = commands.recv()
        if command == "count":
            commands.send(len(server.received))
        elif command == "cpu":
            commands.send(time.process_time())
        elif command == "clear":
            server.clear()
            commands.send("ok")
        else:
            server.stop()
            commands.send("stopped")
            return


class Remote:
    def __init__(self) -> None:
        self.port = free_port()
        self.pipe, child = mp.Pipe()
        self.process = mp.get_context("spawn").Process(target=serve, args=(self.port, child))
        self.process.start()
        if not self.pipe.poll(30):
            raise RuntimeError("the SMTP server did not start")
        self.pipe.recv()

    def ask(self, command: str) -> object:
        self.pipe.send(command)
        return self.pipe.recv()

    def stop(self) -> None:
        self.ask("stop")
        self.process.join(10)


def messages(count: int) -> list[tuple[bytes, str]]:
    composer = EmailComposer(SHOP, "cs")
    kinds = list(ChangeKind)
    out = []
    for n in range(count):
        digest = sample_digest([kinds[n % len(kinds)]], "cs" if n % 2 else "en")
        composed = composer.customer_email(digest, uuid.UUID(int=n + 1), NOW)
        out.append((composed.raw, f"customer{n}@example.com"))
    return out


def baseline(port: int, batch: list[tuple[bytes, str]]) -> float:
    started = time.perf_counter()
    for raw, to in batch:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail(SENDER, [to], raw)
    return time.perf_counter() - started


async def ours(port: int, batch: list[tuple[bytes, str]]) -> tuple[float, int]:
    session = SmtpSession(SmtpConfig(hostname="127.0.0.1", port=port, timeout=30))
    started = time.perf_counter()
    for raw, to in batch:
        await session.send(raw, SENDER, [to])
    await session.close()
    return time.perf_counter() - started, session.connections_opened


async def pipeline(port: int, count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = SqlNotifierStore(SqliteDatabase(f"{folder}/notifier.db"))
        await store.create_tables()
        service = NotifierService(
            store=store,
            transport=SmtpTransport(SmtpConfig(hostname="127.0.0.1", port=port, timeout=30)),
            bus=InMemoryBus(),
            composer=EmailComposer(SHOP, "cs"),
            clock=SystemClock(),
            policy=NotificationPolicy(),
            options=DeliveryOptions(batch_size=count),
        )
        for n in range(count):
            await service.handle(
                change(order=f"O-{n}", email=f"c{n}@example.com", after=(PRE, "Q2 2027"))
            )
        started = time.perf_counter()
        deliveries = await service.flush_due(service.clock.now() + service.policy.debounce)
        elapsed = time.perf_counter() - started
        await store.close()
    if len(deliveries) != count or any(d.outcome != "sent" for d in deliveries):
        raise RuntimeError("the pipeline did not send everything")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    count, rounds = args.count, args.rounds
    if not 1 <= count <= 50_000 or not 1 <= rounds <= count:
        parser.error("--count must be 1..50,000 and --rounds 1..count")
    configure_logging(level="WARNING")  # one log line per message is not what is measured

    print(f"rendering {count} messages ...")
    batch = messages(count)
    chunk = -(-count // rounds)
    names = (
        "baseline: smtplib, new connection per message",
        "ours: aiosmtplib, one connection per round",
        "ours: flush_due (plan, render, log, send, publish)",
    )
    seconds = dict.fromkeys(names, 0.0)
    client_cpu = dict.fromkeys(names, 0.0)
    server_cpu = dict.fromkeys(names, 0.0)
    connections = 0
    server = Remote()
    try:
        # Rounds alternate the order of the three, so drift on a noisy machine hits all alike.
        for number in range(rounds):
            part = batch[number * chunk : (number + 1) * chunk]
            if not part:
                break
            order = list(names) if number % 2 == 0 else list(reversed(names))
            for name in order:
                server.ask("clear")
                cpu, remote_cpu = time.process_time(), float(server.ask("cpu"))  # type: ignore[arg-type]
                if name == names[0]:
                    elapsed = baseline(server.port, part)
                elif name == names[1]:
                    elapsed, opened = asyncio.run(ours(server.port, part))
                    connections += opened
                else:
                    elapsed = asyncio.run(pipeline(server.port, len(part)))
                client_cpu[name] += time.process_time() - cpu
                server_cpu[name] += float(server.ask("cpu")) - remote_cpu  # type: ignore[arg-type]
                if server.ask("count") != len(part):
                    raise RuntimeError(f"{name} lost messages")
                seconds[name] += elapsed
            print(f"round {number + 1}/{rounds} done")
    finally:
        server.stop()

    base = seconds[names[0]]
    print(f"\n{count} notifications to aiosmtpd on 127.0.0.1 (server in its own process),")
    print(f"{rounds} rounds; our sender opened {connections} connection(s) in all\n")
    print(
        f"{'sender':<52} {'seconds':>8} {'msg/s':>7} {'vs base':>8}"
        f" {'client CPU ms/msg':>18} {'server CPU ms/msg':>18}"
    )
    for name in names:
        print(
            f"{name:<52} {seconds[name]:>8.2f} {count / seconds[name]:>7.0f}"
            f" {base / seconds[name]:>7.2f}x {1000 * client_cpu[name] / count:>18.2f}"
            f" {1000 * server_cpu[name] / count:>18.2f}"
        )


if __name__ == "__main__":
    main()
