"""Configuration of the scraper, from ``ETAWATCH_*`` environment variables."""

from pathlib import Path

from pydantic import SecretStr

from etawatch.runtime.settings import DEVELOPMENT_SECRET, ServiceSettings


class ScraperSettings(ServiceSettings):
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    data_dir: Path = Path("var/scraper")
    portal_username: str = "shop"
    portal_password: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    chromium_binary: Path = Path("/usr/bin/chromium")
    chromedriver: Path = Path("/usr/bin/chromedriver")
    metrics_port: int = 9101
