"""``etawatch-scraper once`` as a CronJob calls it: exit 0 on a complete run, 1 on a failed one."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from etawatch_testing.infra import RabbitVhost
from etawatch_testing.scraper import PORTAL_PASSWORD

from etawatch.demo.portal import PortalServer

pytestmark = pytest.mark.integration


def once(portal: PortalServer, rabbit: RabbitVhost, data: Path) -> subprocess.CompletedProcess[str]:
    script = shutil.which("etawatch-scraper", path=str(Path(sys.executable).parent))
    assert script, "etawatch-scraper is not installed: run `uv sync`"
    env = os.environ | {
        "ETAWATCH_AMQP_URL": rabbit.url,
        "ETAWATCH_PORTAL_URL": portal.url,
        "ETAWATCH_PORTAL_PASSWORD": PORTAL_PASSWORD,
        "ETAWATCH_DATA_DIR": str(data),
        "ETAWATCH_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [script, "once", "--profile", "simulated-server"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )


def test_once_exits_0_on_a_complete_run_and_1_on_a_failed_one(
    server_portal: PortalServer, rabbit: RabbitVhost, tmp_path: Path
) -> None:
    done = once(server_portal, rabbit, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{len(server_portal.scenario.catalogue())} items" in done.stderr
    assert PORTAL_PASSWORD not in done.stderr + done.stdout

    server_portal.faults.set(maintenance=True)
    failed = once(server_portal, rabbit, tmp_path)
    assert failed.returncode == 1
    assert "maintenance" in failed.stderr
