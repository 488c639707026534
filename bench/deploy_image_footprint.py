"""What each service's image carries: its own locked dependencies against the whole workspace.

Baseline: one environment with every workspace member (what a single all-purpose image would
hold, ``uv sync --frozen --no-dev --no-editable``). Ours: the Dockerfiles' per-service command
(``uv sync --frozen --package etawatch-<service> --no-dev --no-editable``). Both are installed
into scratch folders from uv's cache, in one run; the figures are installed distributions and
bytes on disk, and the time of a warm install (the cache is filled by the first, unmeasured,
install of each).

    uv run python bench/deploy_image_footprint.py
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("scraper", "ledger", "notifier", "query-api")


def sync(target: Path, *selection: str) -> float:
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is not on PATH")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["UV_PROJECT_ENVIRONMENT"] = str(target)
    started = time.perf_counter()
    subprocess.run(
        [uv, "sync", "--frozen", "--no-dev", "--no-editable", "--quiet", *selection],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    return time.perf_counter() - started


def footprint(venv: Path) -> tuple[int, int]:
    site = next(venv.glob("lib/python*/site-packages"))
    distributions = len(list(site.glob("*.dist-info")))
    size = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
    return distributions, size


def measure(scratch: Path, name: str, *selection: str) -> tuple[int, int, float]:
    sync(scratch / f"{name}-warmup", *selection)  # fills uv's cache; not measured
    seconds = sync(scratch / name, *selection)
    distributions, size = footprint(scratch / name)
    return distributions, size, seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="etawatch-bench-") as folder:
        scratch = Path(folder)
        base = measure(scratch, "workspace", "--all-packages")
        print(f"{'environment':<22}{'dists':>7}{'MiB':>9}{'install s':>11}{'size ratio':>12}")
        print(
            f"{'whole workspace':<22}{base[0]:>7}{base[1] / 2**20:>9.1f}{base[2]:>11.2f}{1:>12.2f}"
        )
        for service in SERVICES:
            ours = measure(scratch, service, "--package", f"etawatch-{service}")
            print(
                f"{'etawatch-' + service:<22}{ours[0]:>7}{ours[1] / 2**20:>9.1f}"
                f"{ours[2]:>11.2f}{ours[1] / base[1]:>12.2f}"
            )


if __name__ == "__main__":
    main()
