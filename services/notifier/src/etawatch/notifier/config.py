"""Configuration of the notifier, from ``ETAWATCH_*`` environment variables."""

from pathlib import Path

from pydantic import SecretStr

from etawatch.runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    smtp_url: SecretStr | None = None
    outbox_dir: Path = Path("var/outbox")
    metrics_port: int = 9103
