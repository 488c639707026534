"""A service's console script run as its own process, and its probes asked over HTTP."""

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from etawatch_testing.smtp import free_port


def script(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed: run `uv sync`"
    return found


def clean_env(**variables: str) -> dict[str, str]:
    """The test's environment without any ETAWATCH_* or eventsourcing variable, plus these."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ETAWATCH_", "POSTGRES_", "SQLITE_", "PERSISTENCE_MODULE"))
    }
    return {**inherited, **variables}


@dataclass
class RunningService:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.get(f"{self.url}{path}")

    async def probe_until(
        self, path: str, accept: Callable[[httpx.Response], bool], within: float = 60.0
    ) -> httpx.Response:
        """Ask ``path`` until ``accept`` likes the answer; fail (with the service's log) after
        ``within`` seconds or when the process ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        last = ""
        while True:
            assert self.process.returncode is None, f"the service ended:\n{self.output()}"
            try:
                answer = await self.get(path)
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if accept(answer):
                    return answer
                last = f"{answer.status_code} {answer.text}"
            if loop.time() > deadline:
                raise AssertionError(
                    f"{path} not as expected after {within}s; last answer {last}\n{self.output()}"
                )
            await asyncio.sleep(0.2)

    async def comes_up(self, metric: str) -> None:
        """Ready with every check ok, alive, and serving its metrics (``metric`` among them)."""
        answer = await self.probe_until("/readyz", ready)
        assert answer.json() == {
            "ready": True,
            "checks": {"service": "ok", "broker": "ok", "store": "ok"},
        }
        alive = await self.get("/healthz")
        assert alive.status_code == 200
        assert alive.json()["status"] == "ok"
        metrics = await self.get("/metrics")
        assert metrics.status_code == 200
        assert metric in metrics.text


@asynccontextmanager
async def running_service(
    args: Sequence[str], env: dict[str, str], log: Path
) -> AsyncIterator[RunningService]:
    """Start the service with its metrics port on a free port; SIGTERM it at the end."""
    port = free_port()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *args,
            env={**env, "ETAWATCH_METRICS_PORT": str(port)},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    service = RunningService(process, f"http://127.0.0.1:{port}", log)
    try:
        yield service
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise AssertionError(
                    f"the service did not stop on SIGTERM:\n{service.output()}"
                ) from None


def ready(answer: httpx.Response) -> bool:
    return answer.status_code == 200


def failing(check: str) -> Callable[[httpx.Response], bool]:
    """A 503 whose body names ``check`` as failed."""

    def accept(answer: httpx.Response) -> bool:
        return answer.status_code == 503 and str(answer.json()["checks"].get(check, "")).startswith(
            "failed:"
        )

    return accept
