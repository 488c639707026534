"""Configuration of the ledger, from ``ETAWATCH_*`` environment variables."""

from pathlib import Path

from pydantic import SecretStr

from etawatch.runtime.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    database_url: SecretStr = SecretStr("sqlite:///var/ledger.sqlite")
    data_dir: Path = Path("var")
    metrics_port: int = 9102
