"""Configuration of the scraper, from ``ETAWATCH_*`` environment variables.

Portal credentials come from here only (never from a profile): ``ETAWATCH_PORTAL_USERNAME`` and
``ETAWATCH_PORTAL_PASSWORD``, or files mounted as secrets named by
``ETAWATCH_PORTAL_USERNAME_FILE`` / ``ETAWATCH_PORTAL_PASSWORD_FILE``.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from etawatch.runtime.settings import DEVELOPMENT_SECRET, ServiceSettings
from etawatch.scraper.domain.credentials import Credentials


class ScraperSettings(ServiceSettings):
    # A refused value is not repeated in the error: it may be a URL with a password in it.
    model_config = ServiceSettings.model_config.copy()
    model_config["hide_input_in_errors"] = True

    amqp_url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="RabbitMQ to publish to (distributed mode).",
    )
    data_dir: Path = Field(
        default=Path("var/scraper"),
        description="Session cookies, the last complete run's size, artifacts of failed runs.",
    )
    portal_url: str | None = Field(
        default=None, description="Base URL of the portal; overrides the profile's base_url."
    )
    portal_username: str = Field(default="shop", description="User name for the portal.")
    portal_password: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET), description="Password for the portal."
    )
    portal_username_file: Path | None = Field(
        default=None, description="A mounted file holding the user name (wins over the variable)."
    )
    portal_password_file: Path | None = Field(
        default=None, description="A mounted file holding the password (wins over the variable)."
    )
    chromium_binary: Path = Field(
        default=Path("/usr/bin/chromium"), description="The Chromium to drive."
    )
    chromedriver: Path = Field(
        default=Path("/usr/bin/chromedriver"),
        description="The ChromeDriver to drive it with (never downloaded).",
    )
    run_time_limit_seconds: float | None = Field(
        default=None, gt=0, description="Hard limit of one run; overrides the profile's."
    )
    metrics_port: int = Field(
        default=9101, ge=0, le=65535, description="Prometheus metrics port of `schedule` (0: off)."
    )
    pushgateway_url: str | None = Field(
        default=None,
        description=(
            "Prometheus Pushgateway that `once` adds its run's metrics to, grouped by profile "
            "(a CronJob's pod is gone before Prometheus could scrape it); unset: not pushed."
        ),
    )

    @field_validator("pushgateway_url")
    @classmethod
    def _pushgateway_is_reachable_by_url(cls, url: str | None) -> str | None:
        """Checked at start, not after the run: ``http(s)://host[:port]`` (the scheme may be left
        out), without a user or password, which the push would not send."""
        if url is None:
            return None
        try:
            parts = urlsplit(url if "://" in url else f"http://{url}")
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            raise ValueError("not a URL") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("a user and password in the URL are not sent; leave them out")
        return url

    @model_validator(mode="before")
    @classmethod
    def _read_mounted_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for field in ("portal_username", "portal_password"):
            path = data.get(f"{field}_file")
            if path:
                try:
                    data[field] = Path(path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ValueError(f"{field}_file: cannot read {path}: {exc.strerror}") from exc
        return data

    def credentials(self) -> Credentials:
        return Credentials(self.portal_username, self.portal_password)
