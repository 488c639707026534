"""Every console script of the workspace starts and answers --help, and names invalid settings."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = [
    "etawatch",
    "etawatch-scraper",
    "etawatch-ledger",
    "etawatch-notifier",
    "etawatch-query-api",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_console_script_answers_help(script: str) -> None:
    path = shutil.which(script, path=str(Path(sys.executable).parent))
    assert path, f"{script} is not installed: run `uv sync`"
    result = subprocess.run(
        [path, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


BAD_SETTINGS = [
    # bad input: a value below its bound, and production without its secrets
    ("etawatch-notifier", {"ETAWATCH_RETENTION_DAYS": "0"}, "ETAWATCH_RETENTION_DAYS:"),
    ("etawatch-ledger", {"ETAWATCH_BATCH_SIZE": "many"}, "ETAWATCH_BATCH_SIZE:"),
    ("etawatch-ledger", {"ETAWATCH_ENVIRONMENT": "production"}, "secrets must be set"),
    ("etawatch-query-api", {"ETAWATCH_ENVIRONMENT": "production"}, "secrets must be set"),
    ("etawatch-scraper", {"ETAWATCH_LOG_LEVEL": "LOUD"}, "ETAWATCH_LOG_LEVEL:"),
]


@pytest.mark.parametrize(("script", "env", "said"), BAD_SETTINGS)
def test_invalid_settings_are_named_without_a_traceback(
    script: str, env: dict[str, str], said: str
) -> None:
    path = shutil.which(script, path=str(Path(sys.executable).parent))
    assert path, f"{script} is not installed: run `uv sync`"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ETAWATCH_")}
    result = subprocess.run(
        [path, "show-settings"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**clean, **env},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("invalid configuration")
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
