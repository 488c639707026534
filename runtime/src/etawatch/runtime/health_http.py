"""One port for a consumer's probes and metrics: ``/healthz``, ``/readyz`` and ``/metrics``.

A WSGI app served from a daemon thread, as prometheus_client's ``start_http_server`` does (its
server cannot take more routes): ``/metrics`` is prometheus_client's own WSGI app, so the
exposition is unchanged; the probes answer JSON from ``ServiceHealth``. Each request gets a
thread, so a slow readiness check never holds up a liveness probe.
"""

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app

from etawatch.runtime.health import Report, ServiceHealth
from etawatch.runtime.log import get_logger

log = get_logger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
METRICS_PATH = "/metrics"

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def probe_app(health: ServiceHealth, registry: CollectorRegistry = REGISTRY) -> WsgiApp:
    """The WSGI app: the two probes and the registry's metrics; 404 for anything else."""
    metrics = make_wsgi_app(registry)
    probes: dict[str, Callable[[], Report]] = {
        LIVENESS_PATH: health.liveness,
        READINESS_PATH: health.readiness,
    }

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == METRICS_PATH:
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        probe = probes.get(path)
        if probe is None:
            return _json(start_response, Report(404, {"detail": f"no such path: {path}"}))
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _json(start_response, Report(405, {"detail": "only GET and HEAD"}))
        report = probe()
        if environ["REQUEST_METHOD"] == "HEAD":
            start_response(_status_line(report.status), [("Content-Type", "application/json")])
            return [b""]
        return _json(start_response, report)

    return app


def _json(start_response: StartResponse, report: Report) -> list[bytes]:
    body = json.dumps(report.body).encode()
    start_response(
        _status_line(report.status),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    """Requests are logged at debug level only: probes come every few seconds."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("probe server request", request=format % args, client=self.address_string())


class ProbeServer:
    """The probe and metrics server of one service, running in a daemon thread."""

    def __init__(
        self,
        health: ServiceHealth,
        port: int,
        *,
        host: str = "0.0.0.0",  # noqa: S104 - probes and scrapes come from outside the pod
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self._server = make_server(
            host,
            port,
            probe_app(health, registry),
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="probe-server", daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS chose when asked for port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serving_probes(
    health: ServiceHealth, port: int, *, registry: CollectorRegistry = REGISTRY
) -> Iterator[ProbeServer]:
    """Serve ``/healthz``, ``/readyz`` and ``/metrics`` on ``port`` while the block runs."""
    server = ProbeServer(health, port, registry=registry)
    server.start()
    try:
        yield server
    finally:
        server.close()
