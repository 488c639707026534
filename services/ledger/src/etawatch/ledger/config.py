"""Configuration of the ledger, from ``ETAWATCH_*`` environment variables."""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr

from etawatch.contracts.topology import OBSERVATION_PARTITIONS
from etawatch.runtime.settings import ProbedServiceSettings


class LedgerSettings(ProbedServiceSettings):
    amqp_url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="RabbitMQ URL the ledger consumes from and relays to.",
    )
    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///var/ledger.sqlite"),
        description=(
            "Event store: sqlite:///PATH (embedded default) or postgresql://USER:PASS@HOST:PORT/DB."
            " Ignored when eventsourcing's own PERSISTENCE_MODULE variable is set."
        ),
    )
    data_dir: Path = Field(default=Path("var"), description="Folder for local files.")
    metrics_port: int = Field(
        default=9102, description="Port of /metrics and of the probes /healthz and /readyz."
    )
    partitions: int = Field(
        default=OBSERVATION_PARTITIONS, ge=1, description="Observation partition queues consumed."
    )
    batch_size: int = Field(
        default=1000, ge=1, description="Most messages of one partition handled in one batch."
    )
    batch_seconds: float = Field(
        default=0.2, gt=0, description="Longest a partial batch waits before it is handled."
    )
    prefetch: int = Field(
        default=2000, ge=1, description="Unacknowledged messages RabbitMQ hands each consumer."
    )
    missing_after_runs: int = Field(
        default=2,
        ge=1,
        description="Consecutive complete runs without an item before it is missing.",
    )
    degraded_after_failures: int = Field(
        default=3, ge=1, description="Consecutive failed runs of a supplier before health degrades."
    )
    max_staged_runs: int = Field(
        default=4, ge=1, description="Open scrape runs held per partition; the oldest is dropped."
    )
    max_staged_rows: int = Field(
        default=2_000_000, ge=1, description="Rows held per run and partition before it is dropped."
    )
    relay_enabled: bool = Field(default=True, description="Run the outbox relay in this process.")
    relay_batch: int = Field(default=500, ge=1, description="Stored events relayed per step.")
    relay_interval_seconds: float = Field(
        default=0.5, gt=0, description="Pause of the relay loop when nothing is left to relay."
    )
    max_events_per_save: int = Field(
        default=2000, ge=1, description="A run that changes more is saved in parts of this size."
    )
    save_attempts: int = Field(
        default=8, ge=1, description="Attempts of one batch on a concurrency conflict."
    )

    def event_store_env(self) -> dict[str, str]:
        """eventsourcing's variables for ``database_url`` (empty when they are set directly)."""
        if os.environ.get("PERSISTENCE_MODULE"):
            return {}
        return event_store_env(self.database_url.get_secret_value())


def event_store_env(url: str) -> dict[str, str]:
    """Turn ``sqlite:///PATH`` or ``postgresql://...`` into eventsourcing's variables."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path or ":memory:"}
    if parts.scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
        }
    if parts.scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    raise ValueError(f"unsupported event store URL scheme {parts.scheme!r}")
