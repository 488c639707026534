"""What each image's build step installs: that service, its console script, and nothing of the
other services or of the development tools. Runs the Dockerfile's own ``uv sync`` command
(read from the Dockerfile) into a scratch environment; no container engine is needed."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from etawatch_testing.deploy import ROOT, SERVICES, Service

pytestmark = pytest.mark.integration


def declared_services(service: Service) -> set[Service]:
    """The service itself and the other services it declares as dependencies."""
    project = tomllib.loads(
        (ROOT / "services" / service.name / "pyproject.toml").read_text(encoding="utf-8")
    )
    requirements = " ".join(project["project"]["dependencies"])
    return {s for s in SERVICES if s == service or re.search(rf"\b{s.script}\b", requirements)}


def sync_command(service: Service) -> list[str]:
    text = (ROOT / "services" / service.name / "Dockerfile").read_text(encoding="utf-8")
    (command,) = [str(c) for c in re.findall(r"^RUN (uv sync [^\n]+)$", text, flags=re.M)]
    return command.split()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_image_build_installs_only_its_service(service: Service, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH: run `make setup` (scripts/setup.sh installs it)"
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    }
    env["UV_PROJECT_ENVIRONMENT"] = str(tmp_path / "venv")
    args = [uv, *sync_command(service)[1:], "--quiet"]
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    bin_dir = tmp_path / "venv" / "bin"
    scripts = {p.name for p in bin_dir.glob("etawatch*")}
    wanted = declared_services(service)
    assert scripts == {s.script for s in wanted}, f"the image would carry {sorted(scripts)}"
    helped = subprocess.run(
        [str(bin_dir / service.script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0 and "Usage" in helped.stdout, helped.stderr
    probe = (
        "import importlib.util as u, sys\n"
        "names = sys.argv[1:]\n"
        "print(' '.join(n for n in names if u.find_spec(n) is not None))\n"
    )
    others = [s.package for s in SERVICES if s not in wanted]
    unwanted = [*others, "pytest", "mypy", "ruff", "hypothesis"]
    if service.name != "scraper":
        unwanted.append("selenium")
    found = subprocess.run(
        [str(bin_dir / "python"), "-c", probe, "etawatch", *unwanted],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert "etawatch" in found, "the namespace package is installed"
    assert [n for n in found if n != "etawatch"] == [], "installed although not needed"
