"""The probe server over HTTP: metrics as prometheus_client serves them, and the two probes."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from etawatch.runtime.health import ServiceHealth
from etawatch.runtime.health_http import serving_probes

pytestmark = pytest.mark.integration


@pytest.fixture
def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("etawatch_test_things", "Things counted.", registry=registry).inc(3)
    return registry


@pytest.fixture
def service_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


def run_service(
    health: ServiceHealth, loop: asyncio.AbstractEventLoop, stop: threading.Event
) -> None:
    """What a service's ``_run`` does: watch, say it consumes, run until stopped."""

    async def service() -> None:
        async with health.watching():
            health.mark_started()
            await asyncio.to_thread(stop.wait)

    asyncio.run_coroutine_threadsafe(service(), loop)


def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not true after {within}s"
        time.sleep(0.02)


@pytest.mark.parametrize(
    "accept", ["", "application/openmetrics-text; version=1.0.0", "text/plain"]
)
def test_metrics_are_served_as_prometheus_client_serves_them(
    registry: CollectorRegistry, accept: str
) -> None:
    """The same answer as from ``start_http_server``, the server the services used before."""
    headers = {"Accept": accept} if accept else {}
    own, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        before = httpx.get(f"http://127.0.0.1:{own.server_port}/metrics", headers=headers)
    finally:
        own.shutdown()
        own.server_close()
        thread.join(timeout=5)
    with serving_probes(ServiceHealth(), 0, registry=registry) as server:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/metrics", headers=headers)
    assert answer.status_code == before.status_code == 200
    assert answer.headers["content-type"] == before.headers["content-type"]
    assert answer.content == before.content
    assert b"etawatch_test_things_total 3.0" in answer.content


def test_probes_answer_json_and_other_paths_are_not_found(
    registry: CollectorRegistry, service_loop: asyncio.AbstractEventLoop
) -> None:
    """Bad input: an unknown path (404) and a POST to a probe (405)."""

    async def answers() -> None:
        return None

    health = ServiceHealth(checks={"broker": answers})
    stop = threading.Event()
    with serving_probes(health, 0, registry=registry) as server:
        url = f"http://127.0.0.1:{server.port}"
        starting = httpx.get(f"{url}/readyz", timeout=5)
        assert starting.status_code == 503
        assert starting.json() == {"ready": False, "checks": {"service": "starting"}}
        run_service(health, service_loop, stop)
        wait_until(lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 200)
        assert httpx.get(f"{url}/readyz", timeout=5).json() == {
            "ready": True,
            "checks": {"service": "ok", "broker": "ok"},
        }
        live = httpx.get(f"{url}/healthz", timeout=5)
        assert live.status_code == 200
        assert live.headers["content-type"] == "application/json"
        assert live.json()["status"] == "ok"
        assert httpx.head(f"{url}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"{url}/nope", timeout=5).status_code == 404
        assert httpx.post(f"{url}/readyz", timeout=5).status_code == 405
        stop.set()
        wait_until(lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 503)


def test_a_blocked_event_loop_fails_liveness_over_http(
    registry: CollectorRegistry, service_loop: asyncio.AbstractEventLoop
) -> None:
    """Bad input: the service's loop is blocked (a ``time.sleep`` callback) for 1.5 s
    with a 0.5 s threshold; the server's own thread still answers, with 503, and the same
    endpoints turn 200 again once the loop runs."""

    async def answers() -> None:
        return None

    health = ServiceHealth(checks={"broker": answers}, stale_after=0.5, timeout=0.2)
    stop = threading.Event()
    run_service(health, service_loop, stop)

    with serving_probes(health, 0, registry=registry) as server:
        url = f"http://127.0.0.1:{server.port}"
        wait_until(lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 200)
        service_loop.call_soon_threadsafe(time.sleep, 1.5)  # a callback that blocks the loop
        time.sleep(0.8)
        stale = httpx.get(f"{url}/healthz", timeout=5)
        assert stale.status_code == 503
        assert stale.json()["status"] == "event loop not responding"
        assert stale.json()["heartbeat_age_seconds"] >= 0.5
        assert httpx.get(f"{url}/metrics", timeout=5).status_code == 200
        wait_until(lambda: httpx.get(f"{url}/healthz", timeout=5).status_code == 200)
        stop.set()
