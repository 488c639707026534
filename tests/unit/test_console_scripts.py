"""Every console script of the workspace starts and answers --help."""

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
