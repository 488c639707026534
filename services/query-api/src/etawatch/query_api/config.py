"""Configuration of the query API, from ``ETAWATCH_*`` environment variables."""

import os

from pydantic import Field, SecretStr

from etawatch.ledger.config import event_store_env
from etawatch.runtime.settings import ServiceSettings


class QueryApiSettings(ServiceSettings):
    amqp_url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="RabbitMQ URL the order commands are published to.",
    )
    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///var/ledger.sqlite"),
        description=(
            "The ledger's event store, read only: sqlite:///PATH or "
            "postgresql://USER:PASS@HOST:PORT/DB (give a role that may only SELECT). Ignored when "
            "eventsourcing's own PERSISTENCE_MODULE variable is set."
        ),
    )
    views_url: SecretStr = Field(
        default=SecretStr("sqlite:///var/query-api.sqlite"),
        description=(
            "Database of the read models, their tracking records and the API keys: "
            "sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of the HTTP server.")
    project_in_background: bool = Field(
        default=True, description="Keep the views caught up from inside the API process."
    )
    projection_batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Events applied per view transaction."
    )
    projection_cache_rows: int = Field(
        default=20_000,
        ge=0,
        description=(
            "View rows (items, their history, orders, runs) the live projector keeps in memory "
            "between batches (0: none); past this, each batch reads the rows it changes again, "
            "together."
        ),
    )
    projection_batch_rows: int = Field(
        default=10_000,
        ge=1,
        description="The live projector commits once a batch has changed this many rows "
        "(an item's change rewrites every open order holding it): bounds its memory.",
    )
    rebuild_cache_rows: int = Field(
        default=1_000_000,
        ge=0,
        description="View rows `rebuild` keeps in memory, each written once at the swap; "
        "past this, the copies go to temporary tables.",
    )
    rebuild_batch_size: int = Field(
        default=5000, ge=1, le=100_000, description="Events applied per transaction in `rebuild`."
    )
    rebuild_read_ahead: bool = Field(
        default=True,
        description="`rebuild` reads and decodes the ledger's events in a second process, "
        "beside the one applying them: worth it with a second CPU core.",
    )
    projection_interval_seconds: float = Field(
        default=0.5, gt=0, description="Pause of the projection loop once the views are current."
    )
    key_cache_seconds: float = Field(
        default=60.0, ge=0, description="How long a checked API key is trusted without a lookup."
    )
    default_page_size: int = Field(default=50, ge=1, le=500, description="Rows per page.")
    order_reads_in_flight: int | None = Field(
        default=None,
        ge=0,
        le=8,
        description="Orders asked for at once are read together, by at most this many statements "
        "out at a time (0: each request reads its own; default: 2 on PostgreSQL, whose pool "
        "keeps the rest of its 10 connections for other reads; 1 on SQLite, which reads them in "
        "a worker thread, sharing the interpreter's lock).",
    )

    def ledger_env(self) -> dict[str, str]:
        """eventsourcing's variables of the ledger's store (read-only: no tables created)."""
        if os.environ.get("PERSISTENCE_MODULE"):
            env = {k: v for k, v in os.environ.items() if k.isupper()}
        else:
            env = event_store_env(self.database_url.get_secret_value())
        return {**env, "CREATE_TABLE": "no"}

    def views_env(self) -> dict[str, str]:
        """eventsourcing's variables of the views' database (tables created when missing)."""
        return {**event_store_env(self.views_url.get_secret_value()), "CREATE_TABLE": "yes"}
