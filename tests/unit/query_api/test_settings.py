"""Settings refuse defaulted secrets outside development."""

import pytest
from pydantic import SecretStr, ValidationError

from etawatch.query_api.config import QueryApiSettings


def test_production_refuses_the_default_database_urls() -> None:
    with pytest.raises(ValidationError, match="ETAWATCH_VIEWS_URL"):
        QueryApiSettings(environment="production")


def test_production_runs_with_its_own_secrets() -> None:
    settings = QueryApiSettings(
        environment="production",
        amqp_url=SecretStr("amqp://app:s3cret@rabbit:5672/"),
        database_url=SecretStr("postgresql://reader:pw@db:5432/ledger"),
        views_url=SecretStr("postgresql://qa:pw@db:5432/views"),
    )
    assert settings.ledger_env()["POSTGRES_USER"] == "reader"
    assert settings.ledger_env()["CREATE_TABLE"] == "no"
    assert "pw" not in str(settings.public_dict())


def test_every_setting_is_described() -> None:
    for name, field in QueryApiSettings.model_fields.items():
        if name in ("environment", "log_level", "log_format"):
            continue
        assert field.description, name
