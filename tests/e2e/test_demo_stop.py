"""`etawatch demo` stopped by Ctrl-C or by SIGTERM (a service manager, `docker stop`) stops
cleanly, keeps what it did, and resumes from there."""

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from etawatch_testing.smtp import free_port

from .test_demo_embedded import etawatch_script, run_demo

pytestmark = pytest.mark.e2e
SMALL = ("--items", "60", "--interval", "600")  # the second cycle would begin in ten minutes


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background shell may have ignored it


@pytest.mark.parametrize(
    ("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_a_stopped_demo_says_so_and_resumes(
    tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    data = tmp_path / "var"
    port = str(free_port())
    proc = subprocess.Popen(
        [etawatch_script(), "demo", "--data-dir", str(data), "--api-port", port, *SMALL],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=_default_sigint,  # noqa: PLW1509 - no threads in the child before exec
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:  # the first cycle is done; the demo now waits for the next
        seen.append(line)
        if "First look" in line:
            break
    else:
        pytest.fail("the demo ended before its first cycle: " + "".join(seen)[-3000:])
    proc.send_signal(stop)
    rest = proc.stdout.read()
    assert proc.wait(timeout=120) == code, "".join(seen)[-2000:] + rest[-3000:]
    assert "Stopped. Run again to resume where it left off." in rest
    assert "Traceback" not in rest
    assert json.loads((data / "demo-state.json").read_text())["cycles"] == 1

    again = run_demo(data, 1, "--items", "60")
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert "Resumed" in again.stdout and "First look" not in again.stdout
