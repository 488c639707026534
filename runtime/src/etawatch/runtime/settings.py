"""Base of every service's settings: environment variables, secrets that refuse defaults."""

from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "production"]

DEVELOPMENT_SECRET = "development-only"  # noqa: S105 - the marked default that production refuses


class ServiceSettings(BaseSettings):
    """Settings read from ``ETAWATCH_*`` environment variables (and ``*_FILE`` mounted files).

    Secrets are ``SecretStr`` fields. Outside development a secret left at its default is an
    error: production never runs on a value that is written in this repository.
    """

    model_config = SettingsConfigDict(
        env_prefix="ETAWATCH_",
        extra="ignore",
        secrets_dir=None,
        validate_default=True,
    )

    environment: Environment = Field(
        default="development",
        description="`production` refuses secrets left at their development defaults.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written to the log."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="`json` lines, readable `console` lines, or `auto`: console on a terminal.",
    )

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Self:
        if self.environment == "development":
            return self
        defaults = []
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr) and (
                value.get_secret_value() in ("", DEVELOPMENT_SECRET)
                or (field.default is not None and value == field.default)
            ):
                defaults.append(f"{self.model_config.get('env_prefix', '')}{name.upper()}")
        if defaults:
            raise ValueError(
                "secrets must be set outside development: " + ", ".join(sorted(defaults))
            )
        return self

    def secret_values(self) -> list[str]:
        """Every secret's value, for the log redactor."""
        return [
            value.get_secret_value()
            for value in self.__dict__.values()
            if isinstance(value, SecretStr) and value.get_secret_value()
        ]

    def public_dict(self) -> dict[str, Any]:
        """The settings with secrets masked, for a start-up log line."""
        return {
            key: ("**********" if isinstance(value, SecretStr) else value)
            for key, value in self.__dict__.items()
        }


class ProbedServiceSettings(ServiceSettings):
    """A long-running consumer whose metrics port also answers ``/healthz`` and ``/readyz``."""

    liveness_stale_seconds: float = Field(
        default=30.0,
        gt=0,
        description="`/healthz` fails when the service's event loop has not run for this long.",
    )
    readiness_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How long `/readyz` waits for the broker and the database to answer.",
    )
