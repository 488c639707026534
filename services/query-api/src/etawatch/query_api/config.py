"""Configuration of the query API, from ``ETAWATCH_*`` environment variables."""

from pydantic import SecretStr

from etawatch.runtime.settings import ServiceSettings


class QueryApiSettings(ServiceSettings):
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    database_url: SecretStr = SecretStr("sqlite:///var/ledger.sqlite")
    host: str = "127.0.0.1"
    port: int = 8000
