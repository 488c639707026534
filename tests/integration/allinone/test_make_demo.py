"""`make demo` sets up what the demo needs; the embedded demo needs no PostgreSQL or RabbitMQ."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
NOWHERE = "127.0.0.2"  # loopback, but neither PostgreSQL nor RabbitMQ listens there


def test_make_demo_runs_without_postgresql_and_rabbitmq() -> None:
    make = shutil.which("make")
    assert make, "make is not installed: apt-get install make"
    env = {
        **os.environ,
        "ETAWATCH_TEST_PG_HOST": NOWHERE,  # what scripts/setup.sh checks
        "ETAWATCH_TEST_AMQP_HOST": NOWHERE,
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [make, "--no-print-directory", "demo", "DEMO_ARGS=--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Usage: etawatch demo" in result.stdout
    assert "does not answer" not in result.stderr
