"""The services' Dockerfiles, parsed: pinned bases, one service's locked dependencies, a
non-root user, no secrets, the console script as entrypoint."""

import importlib.util
import io
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]
from etawatch_testing.deploy import (
    OVERLAYS,
    ROOT,
    SERVICES,
    Service,
    container,
    env_names,
    render,
    settings_class,
    workload,
)

PINNED = re.compile(r"^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?$")
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|_URL$", re.I)
CREDENTIAL_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def instructions(text: str) -> list[dict[str, Any]]:
    # Parsed from memory: given no file object, the parser would write ./Dockerfile.
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    return [i for i in parser.structure if i["instruction"] != "COMMENT"]


def env_pairs(value: str) -> dict[str, str]:
    tokens = shlex.split(value)
    if all("=" in token for token in tokens):
        return dict(token.split("=", 1) for token in tokens)
    return {tokens[0]: " ".join(tokens[1:])}  # the legacy ``ENV KEY value`` form


def dockerfile_problems(text: str, service: Service) -> list[str]:
    """Everything wrong with a service's Dockerfile; empty when it is fine."""
    steps = instructions(text)
    problems: list[str] = []
    stages: list[str] = []
    for step in (s for s in steps if s["instruction"] == "FROM"):
        image, _, alias = step["value"].partition(" AS ")
        image = image.split()[-1]  # drop --platform=...
        if image not in stages and (
            not PINNED.match(image) or ("@" not in image and ":" not in image)
        ):
            problems.append(f"base image {image} is not pinned to an exact version or digest")
        stages.append(alias.strip() or image)
    if len(stages) < 2:
        problems.append("not a multi-stage build")
    final = max(i for i, s in enumerate(steps) if s["instruction"] == "FROM")
    users = [s["value"].split(":")[0] for s in steps[final:] if s["instruction"] == "USER"]
    if not users or users[-1] in ("0", "root"):
        problems.append("the final stage does not switch to a non-root USER")
    for step in steps:
        if step["instruction"] in ("ENV", "ARG"):
            pairs = (
                env_pairs(step["value"])
                if step["instruction"] == "ENV"
                else dict(
                    [step["value"].split("=", 1) if "=" in step["value"] else (step["value"], "")]
                )
            )
            for key, value in pairs.items():
                if SECRET_NAME.search(key) or CREDENTIAL_IN_URL.search(value):
                    problems.append(f"{step['instruction']} {key} looks like a secret")
        if step["instruction"] in ("COPY", "ADD") and re.search(
            r"\.env\b|\.pem\b|id_rsa", step["value"]
        ):
            problems.append(f"{step['instruction']} {step['value']} copies a secret file")
    syncs = [s["value"] for s in steps if s["instruction"] == "RUN" and "uv sync" in s["value"]]
    wanted = {"--frozen", f"--package etawatch-{service.name}", "--no-dev"}
    if not any(all(flag in run for flag in wanted) for run in syncs):
        problems.append(f"no `uv sync {' '.join(sorted(wanted))}`")
    others = [s.name for s in SERVICES if s != service and f"etawatch-{s.name}" in text]
    if others:
        problems.append(f"mentions other services: {others}")
    entrypoints = [s["value"] for s in steps[final:] if s["instruction"] == "ENTRYPOINT"]
    try:
        entrypoint = json.loads(entrypoints[-1]) if entrypoints else None
    except json.JSONDecodeError:
        entrypoint = None
    if entrypoint != [service.script]:
        problems.append(f"ENTRYPOINT is not the exec form [{service.script!r}]")
    return problems


def dockerfile(service: Service) -> Path:
    return ROOT / "services" / service.name / "Dockerfile"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_dockerfile_is_sound(service: Service) -> None:
    assert dockerfile(service).is_file(), f"{service.name} has no Dockerfile"
    assert dockerfile_problems(dockerfile(service).read_text(encoding="utf-8"), service) == []


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_entrypoint_is_a_console_script_of_the_service(service: Service) -> None:
    project = tomllib.loads(
        (ROOT / "services" / service.name / "pyproject.toml").read_text(encoding="utf-8")
    )
    assert service.script in project["project"]["scripts"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_etawatch_variables_of_the_image_are_settings(service: Service) -> None:
    known = set(env_names(settings_class(service)))
    steps = instructions(dockerfile(service).read_text(encoding="utf-8"))
    names = {k for s in steps if s["instruction"] == "ENV" for k in env_pairs(s["value"])}
    assert {n for n in names if n.startswith("ETAWATCH_")} <= known


def test_scraper_image_carries_debians_chromium_and_driver() -> None:
    text = (ROOT / "services" / "scraper" / "Dockerfile").read_text(encoding="utf-8")
    installs = [
        s["value"]
        for s in instructions(text)
        if s["instruction"] == "RUN" and "apt-get" in s["value"]
    ]
    assert any(re.search(r"\bchromium\b", r) and "chromium-driver" in r for r in installs)


BAD = """\
FROM python:latest
ENV ETAWATCH_AMQP_URL=amqp://shop:hunter2@rabbit:5672/
ARG API_TOKEN
COPY .env /app/.env
RUN uv sync --package etawatch-ledger
USER root
ENTRYPOINT etawatch-ledger run
"""


def test_a_bad_dockerfile_is_refused_for_each_reason() -> None:
    ledger = next(s for s in SERVICES if s.name == "ledger")
    problems = "\n".join(dockerfile_problems(BAD, ledger))
    for expected in (
        "python:latest is not pinned",
        "not a multi-stage build",
        "non-root USER",
        "ENV ETAWATCH_AMQP_URL looks like a secret",
        "ARG API_TOKEN looks like a secret",
        "copies a secret file",
        "no `uv sync",
        "ENTRYPOINT is not the exec form",
    ):
        assert expected in problems


def test_floating_tags_are_not_pinned() -> None:
    ledger = next(s for s in SERVICES if s.name == "ledger")
    for image in ("python:3.11-slim", "python", "python:3"):
        text = (
            dockerfile(ledger)
            .read_text(encoding="utf-8")
            .replace("python:3.11.14-slim-bookworm", image)
        )
        assert any("not pinned" in p for p in dockerfile_problems(text, ledger)), image


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_context() -> None:
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in ("**/.venv", ".git", "tests", "var", "**/*.env", "**/.env*"):
        assert needed in patterns
    assert "uv.lock" not in patterns and "pyproject.toml" not in patterns


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_writable_path_of_the_image_is_a_volume_in_kubernetes(
    service: Service, overlay: str
) -> None:
    """Under a read-only root filesystem the image writes only to its VOLUMEs (and HOME, which
    must lie in one): each is mounted by the workload."""
    steps = instructions(dockerfile(service).read_text(encoding="utf-8"))
    volumes = [p for s in steps if s["instruction"] == "VOLUME" for p in json.loads(s["value"])]
    assert "/tmp" in volumes
    env = {
        k: v for s in steps if s["instruction"] == "ENV" for k, v in env_pairs(s["value"]).items()
    }
    if "HOME" in env:
        assert any(env["HOME"] == v or env["HOME"].startswith(v + "/") for v in volumes)
    spec = container(workload(render(overlay), service), service.container)
    mounted = {m["mountPath"] for m in spec.get("volumeMounts", [])}
    missing = [v for v in volumes if v not in mounted]
    if service.name == "query-api":
        missing = [
            v for v in missing if v != "/var/lib/etawatch"
        ]  # stateless: writes nothing there
    assert not missing, f"{service.name} writes to {missing}, not mounted in {overlay}"


def _renderer() -> Any:
    path = ROOT / "deploy" / "docker" / "render.py"
    spec = importlib.util.spec_from_file_location("dockerfile_render", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_dockerfile_is_the_one_the_template_writes() -> None:
    renderer = _renderer()
    assert {image.name for image in renderer.IMAGES} == {service.name for service in SERVICES}
    assert renderer.stale() == [], "run: uv run python deploy/docker/render.py --write"


def test_a_changed_or_missing_dockerfile_is_found_stale(tmp_path: Path) -> None:
    renderer = _renderer()
    for image in renderer.IMAGES:
        path = renderer.path_of(image, tmp_path)
        path.parent.mkdir(parents=True)
        path.write_text(renderer.render(image), encoding="utf-8")
    assert renderer.stale(tmp_path) == []
    ledger, notifier = (i for i in renderer.IMAGES if i.name in ("ledger", "notifier"))
    edited = renderer.path_of(ledger, tmp_path)
    edited.write_text(renderer.render(ledger).replace("USER 10001:10001", "USER root"))
    renderer.path_of(notifier, tmp_path).unlink()
    assert renderer.stale(tmp_path) == [edited, renderer.path_of(notifier, tmp_path)]
