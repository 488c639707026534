"""`etawatch demo --cycles N --exit`: the whole pipeline in one process, checked end to end.

The demo itself compares what customers were told with the simulated portal's ground truth and
exits non-zero on any difference; these tests run it as a newcomer would and then check its
outputs independently: the .eml files, the query API's views and a second (resumed) run.
"""

import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from etawatch_testing.smtp import free_port

pytestmark = pytest.mark.e2e


def etawatch_script() -> str:
    etawatch = shutil.which("etawatch", path=str(Path(sys.executable).parent))
    assert etawatch, "the etawatch console script is not installed: run `uv sync`"
    return etawatch


def run_demo(data: Path, cycles: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            etawatch_script(),
            "demo",
            "--cycles",
            str(cycles),
            "--exit",
            "--data-dir",
            str(data),
            "--api-port",
            str(free_port()),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def emails(outbox: Path) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found[path.name] = message
    return found


def test_demo_tells_every_real_change_once_and_resumes_without_resending(tmp_path: Path) -> None:
    data = tmp_path / "var"
    first = run_demo(data, cycles=3)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert "First look: every item is a baseline" in first.stdout
    assert "The failed run changed nothing and told nobody." in first.stdout
    assert "nothing else was sent" in first.stdout

    sent = emails(data / "outbox")
    assert sent, "the scenario changed ordered items, so some emails must have been written"
    message_ids = [m["Message-ID"] for m in sent.values()]
    assert len(set(message_ids)) == len(message_ids)
    for message in sent.values():
        assert message["To"].addresses[0].domain == "example.com"
        assert message.get_body(preferencelist=("plain",)) is not None
        assert message.get_body(preferencelist=("html",)) is not None

    state = json.loads((data / "demo-state.json").read_text())
    assert state["cycles"] == 3

    second = run_demo(data, cycles=1)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    assert "Resumed" in second.stdout
    assert "First look" not in second.stdout
    after = emails(data / "outbox")
    for name, message in sent.items():  # nothing from the first run was written again
        assert after[name].as_bytes() == message.as_bytes()
    new_ids = [m["Message-ID"] for name, m in after.items() if name not in sent]
    assert not set(new_ids) & set(message_ids)
