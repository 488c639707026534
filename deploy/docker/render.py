"""Write each service's Dockerfile from one template, or check that they are as written.

The four images are built the same way (one service's locked dependencies, a non-root user, a
read-only root filesystem); only the scraper adds Debian's Chromium. Each service keeps a
Dockerfile of its own, so that any builder can build it alone, and all of them come from
``Dockerfile.j2``:

    uv run python deploy/docker/render.py           # exit 1 and name the files that differ
    uv run python deploy/docker/render.py --write   # write them
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2

ROOT = Path(__file__).resolve().parents[2]
BASE = "python:3.11.14-slim-bookworm"
"""The Python image both stages start from, pinned to a patch release."""
UV = "0.13.9"


@dataclass(frozen=True)
class Image:
    name: str
    summary: str
    browser: bool = False


IMAGES = (
    Image("ledger", "the only writer of the event store."),
    Image("notifier", "tells customers about delivery date changes."),
    Image("query-api", "REST projections for the shop."),
    Image(
        "scraper",
        "the browser robot that reads a supplier portal, with Debian's Chromium.",
        browser=True,
    ),
)


def render(image: Image) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=False,  # noqa: S701 - a Dockerfile, not HTML
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("Dockerfile.j2")
    return template.render(
        name=image.name, summary=image.summary, browser=image.browser, base=BASE, uv=UV
    )


def path_of(image: Image, root: Path = ROOT) -> Path:
    return root / "services" / image.name / "Dockerfile"


def stale(root: Path = ROOT) -> list[Path]:
    """The Dockerfiles under ``root`` that differ from what the template writes."""
    return [
        path_of(image, root)
        for image in IMAGES
        if not path_of(image, root).is_file()
        or path_of(image, root).read_text(encoding="utf-8") != render(image)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the Dockerfiles")
    args = parser.parse_args()
    if args.write:
        for image in IMAGES:
            path_of(image).write_text(render(image), encoding="utf-8")
        return
    differ = stale()
    for path in differ:
        sys.stderr.write(f"{path.relative_to(ROOT)} differs from deploy/docker/Dockerfile.j2\n")
    if differ:
        sys.stderr.write("write them with: uv run python deploy/docker/render.py --write\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
