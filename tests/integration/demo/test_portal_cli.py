"""``etawatch portal`` starts the portal in the foreground and prints how to reach it."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from etawatch_testing.portal import login, read_table

pytestmark = pytest.mark.integration


def test_the_command_prints_url_and_credentials_and_serves() -> None:
    etawatch = shutil.which("etawatch", path=str(Path(sys.executable).parent))
    assert etawatch, "etawatch is not installed: run `uv sync`"
    command = [etawatch, "portal", "--port", "0", "--items", "40", "--seed", "3"]
    command += ["--mode", "script", "--page-size", "15"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    ) as process:
        try:
            assert process.stdout is not None
            printed = ""
            deadline = time.monotonic() + 60
            while "Ctrl-C" not in printed and time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                printed += line
            match = re.search(r"(http://127\.0\.0\.1:\d+)/login", printed)
            assert match, printed
            assert "shop" in printed and "portal-secret" in printed and "admin-secret" in printed
            with httpx.Client(base_url=match.group(1)) as client:
                assert login(client).status_code == 303
                table = read_table(client.get("/availability").text)
                assert table is not None
                assert table.attributes["data-source"] == "/api/availability?page=1"
                assert client.get("/api/availability?page=3").json()["pages"] == 3
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_a_bad_option_is_refused_with_the_reason() -> None:
    etawatch = shutil.which("etawatch", path=str(Path(sys.executable).parent))
    assert etawatch
    result = subprocess.run(
        [etawatch, "portal", "--mode", "teletext"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "teletext" in result.stderr
    result = subprocess.run(
        [etawatch, "portal", "--port", "0", "--page-size", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Invalid portal settings" in result.stderr and "page_size" in result.stderr
    assert "Traceback" not in result.stderr
