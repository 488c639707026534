"""``PortalServer``: the portal behind uvicorn, in a background thread or on a running loop.

The listening socket is bound before uvicorn starts, so ``url`` is known (a free port when
``config.port`` is 0) and a client may connect as soon as ``start`` returns.
"""

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import uvicorn

from etawatch.demo.application.sessions import Clock
from etawatch.demo.bootstrap import Portal, build_portal
from etawatch.demo.config import PortalConfig
from etawatch.demo.domain.faults import Faults
from etawatch.demo.domain.ground_truth import GroundTruthChange
from etawatch.demo.domain.scenario import Scenario
from etawatch.demo.entrypoints.web import create_app

START_TIMEOUT = 30.0


class PortalServer:
    """A running simulated portal. ``with PortalServer(config) as portal: portal.url ...``"""

    def __init__(self, config: PortalConfig | None = None, *, clock: Clock = time.monotonic):
        self.config = config or PortalConfig()
        self.portal: Portal = build_portal(self.config, clock)
        self.app = create_app(self.portal)
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None

    # --- what tests and the demo use ------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return self.portal.scenario

    @property
    def faults(self) -> Faults:
        return self.portal.faults

    def ground_truth(self) -> list[GroundTruthChange]:
        return self.portal.scenario.ground_truth()

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the portal is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    # --- starting and stopping ------------------------------------------------------------------

    def _prepare(self) -> tuple[uvicorn.Server, socket.socket]:
        if self._server is not None:
            raise RuntimeError("the portal is already started")
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when the
        # listening socket says it is TCP; without it each keep-alive answer waits ~40 ms
        # for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.host, self.config.port))
            # Listen now: connections made after the URL is printed, before uvicorn runs, wait
            # in the backlog instead of being refused.
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
        config = uvicorn.Config(
            self.app,
            # uvicorn's loggers go to the root logger, where the shared set-up redacts secrets
            # (its own default config writes tracebacks straight to stderr).
            log_config=None,
            log_level="warning",
            access_log=self.config.access_log,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        if self.config.access_log:
            # uvicorn has just set its access logger to the level above, and a server started
            # earlier in this process without the access log has cut it off from the root.
            access = logging.getLogger("uvicorn.access")
            access.setLevel(logging.INFO)
            access.propagate = True
        self._socket, self._server = sock, uvicorn.Server(config)
        return self._server, sock

    def start(self) -> Self:
        """Serve from a background thread; returns once the portal answers."""
        server, sock = self._prepare()
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="portal-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise RuntimeError("the portal did not start (see the log above)")
        return self

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve in this thread until interrupted (Ctrl-C); ``on_ready`` gets the URL first."""
        server, sock = self._prepare()
        if on_ready is not None:
            on_ready(self.url)
        try:
            server.run(sockets=[sock])
        finally:
            self._close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
        self._close()

    async def start_async(self) -> Self:
        """Serve from a task on the running event loop; returns once the portal answers."""
        server, sock = self._prepare()
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="portal-server")
        deadline = time.monotonic() + START_TIMEOUT
        # uvicorn offers a flag, not an event, for "started"
        while not server.started and not self._task.done() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if not server.started:
            await self.stop_async()
            raise RuntimeError("the portal did not start (see the log above)")
        return self

    async def stop_async(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=START_TIMEOUT)
        self._close()

    def _close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._server, self._thread, self._task = None, None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await self.start_async()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop_async()
