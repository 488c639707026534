"""``etawatch-scraper once`` as a CronJob calls it: exit 0 on a complete run, 1 on a failed one."""

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pytest
from etawatch_testing.infra import RabbitVhost
from etawatch_testing.scraper import PORTAL_PASSWORD

from etawatch.demo.portal import PortalServer

pytestmark = pytest.mark.integration


def once(
    portal: PortalServer, rabbit: RabbitVhost, data: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    script = shutil.which("etawatch-scraper", path=str(Path(sys.executable).parent))
    assert script, "etawatch-scraper is not installed: run `uv sync`"
    env = os.environ | {
        "ETAWATCH_AMQP_URL": rabbit.url,
        "ETAWATCH_PORTAL_URL": portal.url,
        "ETAWATCH_PORTAL_PASSWORD": PORTAL_PASSWORD,
        "ETAWATCH_DATA_DIR": str(data),
        "ETAWATCH_LOG_FORMAT": "json",
        **extra,
    }
    return subprocess.run(
        [script, "once", "--profile", "simulated-server"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )


def test_once_exits_0_on_a_complete_run_and_1_on_a_failed_one(
    server_portal: PortalServer, rabbit: RabbitVhost, tmp_path: Path
) -> None:
    done = once(server_portal, rabbit, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{len(server_portal.scenario.catalogue())} items" in done.stderr
    assert PORTAL_PASSWORD not in done.stderr + done.stdout

    server_portal.faults.set(maintenance=True)
    failed = once(server_portal, rabbit, tmp_path)
    assert failed.returncode == 1
    assert "maintenance" in failed.stderr


class Gateway(http.server.BaseHTTPRequestHandler):
    """Takes pushes as a Prometheus Pushgateway does (its API: POST adds to a group)."""

    pushes: ClassVar[list[tuple[str, str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"] or 0)).decode()
        self.pushes.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def gateway() -> Iterator[str]:
    """A loopback HTTP server taking pushes; yields its URL."""
    Gateway.pushes.clear()  # a class's list: an earlier test of the session filled it
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_once_adds_its_metrics_to_a_pushgateway_and_runs_on_when_it_is_down(
    server_portal: PortalServer, rabbit: RabbitVhost, tmp_path: Path
) -> None:
    with gateway() as url:
        done = once(server_portal, rabbit, tmp_path, ETAWATCH_PUSHGATEWAY_URL=url)
    assert done.returncode == 0, done.stderr
    ((method, path, body),) = Gateway.pushes
    assert (method, path) == ("POST", "/metrics/job/etawatch-scraper/profile/simulated-server")
    assert "etawatch_scraper_last_run_succeeded 1.0" in body
    assert "etawatch_scraper_last_success_timestamp_seconds " in body
    rows = len(server_portal.scenario.catalogue())
    assert f"etawatch_scraper_last_complete_run_rows {float(rows)}" in body

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening: refused
    try:
        still = once(server_portal, rabbit, tmp_path, ETAWATCH_PUSHGATEWAY_URL=nowhere)
    finally:
        closed.close()
    assert still.returncode == 0, still.stderr
    assert "metrics not pushed" in still.stderr


def test_a_run_that_cannot_reach_the_broker_is_pushed_as_failed(
    server_portal: PortalServer, rabbit: RabbitVhost, tmp_path: Path
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    no_broker = f"amqp://guest:pw-not-shown@127.0.0.1:{port}/"
    try:
        with gateway() as url:
            failed = once(
                server_portal,
                rabbit,
                tmp_path,
                ETAWATCH_PUSHGATEWAY_URL=url,
                ETAWATCH_AMQP_URL=no_broker,
            )
    finally:
        closed.close()
    assert failed.returncode == 1
    assert f"RabbitMQ at 127.0.0.1:{port} does not answer" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert "pw-not-shown" not in failed.stderr
    ((_, _, body),) = Gateway.pushes
    assert "etawatch_scraper_last_run_succeeded 0.0" in body
    assert "etawatch_scraper_last_success_timestamp_seconds" not in body
