"""Secrets never reach the log output, whatever way they are logged."""

import io
import json
import logging
from typing import Literal

import pytest
from pydantic import SecretStr, ValidationError

from etawatch.runtime.log import REDACTED, configure_logging, get_logger
from etawatch.runtime.settings import DEVELOPMENT_SECRET, ServiceSettings

PLANTED = "s3cr3t-Planted-Value"


class DemoSettings(ServiceSettings):
    smtp_password: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    api_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@localhost/")


def log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_planted_secret_is_redacted_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETAWATCH_SMTP_PASSWORD", PLANTED)
    settings = DemoSettings()
    out = io.StringIO()
    configure_logging(fmt="json", secrets=settings.secret_values(), stream=out)
    log = get_logger("test")

    log.info("connecting", detail=f"login with {PLANTED} now")
    log.info("nested", data={"inner": [PLANTED, {"deep": PLANTED}]})
    log.info("by key", password="hunter2-other", api_key="k-123456", token="t-abcdef")
    log.info("url", url="postgresql://etawatch:pg-pass-987@db:5432/etawatch")
    logging.getLogger("stdlib").warning("stdlib says %s", PLANTED)
    try:
        raise RuntimeError(f"failed with {PLANTED}")
    except RuntimeError:
        log.exception("boom")

    text = out.getvalue()
    assert PLANTED not in text
    assert "hunter2-other" not in text
    assert "pg-pass-987" not in text
    assert "k-123456" not in text
    lines = log_lines(out)
    assert lines[0]["detail"] == f"login with {REDACTED} now"
    assert lines[3]["url"] == f"postgresql://etawatch:{REDACTED}@db:5432/etawatch"
    assert any(line.get("logger") == "stdlib" for line in lines)
    assert text.count(REDACTED) >= 8


def test_console_format_redacts_too() -> None:
    out = io.StringIO()
    configure_logging(fmt="console", secrets=[PLANTED], stream=out)
    get_logger("test").info("hello", value=PLANTED)
    assert "hello" in out.getvalue()
    assert PLANTED not in out.getvalue()


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_tracebacks_are_redacted_too(fmt: Literal["console", "json"]) -> None:
    """On a terminal too: a traceback is text like any other, and may quote a secret."""
    out = io.StringIO()
    configure_logging(fmt=fmt, secrets=[PLANTED], stream=out)
    url = "postgresql://etawatch:pg-pass-987@db:5432/etawatch"
    try:
        raise RuntimeError(f"failed with {PLANTED} at {url}")
    except RuntimeError:
        get_logger("test").exception("boom")
        logging.getLogger("stdlib").exception("stdlib boom")
    get_logger("test").info("where", stack_info=True)
    text = out.getvalue()
    assert text.count("RuntimeError: failed with") == 2
    assert "Stack (most recent call last)" in text
    assert PLANTED not in text
    assert "pg-pass-987" not in text


def test_production_refuses_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETAWATCH_ENVIRONMENT", "production")
    with pytest.raises(ValidationError) as error:
        DemoSettings()
    message = str(error.value)
    assert "ETAWATCH_SMTP_PASSWORD" in message
    assert "ETAWATCH_API_KEY" in message
    assert "ETAWATCH_AMQP_URL" in message

    monkeypatch.setenv("ETAWATCH_SMTP_PASSWORD", "a")
    monkeypatch.setenv("ETAWATCH_API_KEY", "b")
    monkeypatch.setenv("ETAWATCH_AMQP_URL", "amqp://u:p@rabbit/")
    assert DemoSettings().environment == "production"


def test_public_dict_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETAWATCH_SMTP_PASSWORD", PLANTED)
    public = DemoSettings().public_dict()
    assert PLANTED not in json.dumps(public, default=str)
    assert public["smtp_password"] == "**********"
