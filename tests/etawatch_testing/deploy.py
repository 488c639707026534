"""What the deployment tests read: rendered manifests, the services' settings and commands.

Nothing here knows a service's variables, ports or subcommands by heart: the settings classes
and the command lines are imported at test time, so a renamed setting or command in a service
fails the deployment tests instead of a rollout.
"""

import ast
import copy
import functools
import importlib
import importlib.metadata
import os
import shutil
import subprocess
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import SecretStr

from etawatch.runtime.health_http import (
    LIVENESS_PATH,
    METRICS_PATH,
    READINESS_PATH,
    serving_probes,
)
from etawatch.runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.34.0"
"""The Kubernetes version the manifests are validated against (kubernetes-validate)."""

Resource = dict[str, Any]


@dataclass(frozen=True)
class Service:
    """A workspace member that is deployed on its own."""

    name: str  # directory under services/, e.g. "query-api"
    workload: str  # the name of its Deployment or CronJob ("etawatch-query-api")
    container: str

    @property
    def package(self) -> str:
        return "etawatch." + self.name.replace("-", "_")

    @property
    def script(self) -> str:
        return f"etawatch-{self.name}"

    @property
    def source(self) -> Path:
        return ROOT / "services" / self.name / "src" / "etawatch" / self.name.replace("-", "_")


SERVICES = (
    Service("scraper", "etawatch-scraper-example", "scraper"),
    Service("ledger", "etawatch-ledger", "ledger"),
    Service("notifier", "etawatch-notifier", "notifier"),
    Service("query-api", "etawatch-query-api", "query-api"),
)
LONG_RUNNING = tuple(s for s in SERVICES if s.name != "scraper")


# --- kustomize --------------------------------------------------------------------------------


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail(
            "kubectl is not on PATH: the deployment tests render k8s/overlays/* with "
            "`kubectl kustomize`. Install it (Debian: apt-get install kubernetes-client, "
            "or the kubectl binary of your Kubernetes version)",
            pytrace=False,
        )
    return path


@functools.cache
def _render_text(directory: str) -> str:
    result = subprocess.run(
        [kubectl(), "kustomize", directory],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed:\n{result.stderr}", pytrace=False)
    return result.stdout


@functools.cache
def _rendered(overlay: str) -> tuple[Resource, ...]:
    text = _render_text(str(K8S / "overlays" / overlay))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(doc for doc in yaml.load_all(text, Loader=loader) if doc)


def render(overlay: str) -> list[Resource]:
    """The resources of ``k8s/overlays/<overlay>``, as ``kubectl kustomize`` renders them
    (a fresh copy: a test may change what it gets)."""
    return copy.deepcopy(list(_rendered(overlay)))


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    for resource in resources:
        if resource["kind"] == kind and resource["metadata"]["name"] == name:
            return resource
    raise AssertionError(f"no {kind} named {name} in the rendered manifests")


def of_kind(resources: list[Resource], *kinds: str) -> list[Resource]:
    return [r for r in resources if r["kind"] in kinds]


def scraper_cronjobs(resources: list[Resource]) -> list[Resource]:
    """The scraper's CronJobs, one per supplier profile (not the query API's rebuild)."""
    return [
        c
        for c in of_kind(resources, "CronJob")
        if c["metadata"]["labels"]["app.kubernetes.io/component"] == "scraper"
    ]


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def pod_spec(resource: Resource) -> dict[str, Any]:
    """The pod template's spec of a workload."""
    spec = resource["spec"]
    if resource["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return typing.cast(dict[str, Any], spec["template"]["spec"])


def pod_labels(resource: Resource) -> dict[str, str]:
    spec = resource["spec"]
    if resource["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return typing.cast(dict[str, str], spec["template"]["metadata"].get("labels", {}))


def workload(resources: list[Resource], service: Service) -> Resource:
    kind = "CronJob" if service.name == "scraper" else "Deployment"
    return find(resources, kind, service.workload)


def container(resource: Resource, name: str) -> dict[str, Any]:
    for candidate in pod_spec(resource)["containers"]:
        if candidate["name"] == name:
            return typing.cast(dict[str, Any], candidate)
    raise AssertionError(f"{resource['metadata']['name']} has no container {name}")


def all_containers(resource: Resource) -> Iterator[dict[str, Any]]:
    spec = pod_spec(resource)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


@dataclass(frozen=True)
class EnvValue:
    """Where a container's environment variable comes from."""

    literal: str | None = None
    secret: tuple[str, str] | None = None  # (Secret name, key)
    config_map: tuple[str, str] | None = None  # (ConfigMap name, key)


def container_env(resources: list[Resource], spec: dict[str, Any]) -> dict[str, EnvValue]:
    """Every variable a container gets, from ``envFrom`` ConfigMaps and ``env`` (which wins)."""
    env: dict[str, EnvValue] = {}
    for source in spec.get("envFrom", []):
        ref = source.get("configMapRef")
        assert ref is not None, f"envFrom other than a ConfigMap hides keys: {source}"
        data = find(resources, "ConfigMap", ref["name"]).get("data", {})
        for key in data:
            env[source.get("prefix", "") + key] = EnvValue(config_map=(ref["name"], key))
    for item in spec.get("env", []):
        if "value" in item:
            env[item["name"]] = EnvValue(literal=str(item["value"]))
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = EnvValue(secret=(ref["name"], ref["key"]))
        elif "configMapKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = EnvValue(config_map=(ref["name"], ref["key"]))
        else:
            env[item["name"]] = EnvValue(literal="")
    return env


def resolved_env(resources: list[Resource], spec: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the process would see it, with stand-ins for secrets."""
    values: dict[str, str] = {}
    for name, source in container_env(resources, spec).items():
        if source.literal is not None:
            values[name] = source.literal
        elif source.config_map is not None:
            cm_name, key = source.config_map
            values[name] = str(find(resources, "ConfigMap", cm_name)["data"][key])
        else:
            values[name] = secret_stand_in(name)
    return values


def secret_stand_in(variable: str) -> str:
    """A value a Secret could hold, shaped like what the variable expects."""
    stand_ins = {
        "AMQP_URL": "amqp://etawatch:s3cret-from-secret@rabbitmq:5672/",
        "DATABASE_URL": "postgresql://etawatch:s3cret-from-secret@postgres:5432/etawatch",
        "SMTP_URL": "smtp://etawatch:s3cret-from-secret@mail:587",
    }
    for suffix, value in stand_ins.items():
        if variable.endswith(suffix):
            return value
    return "s3cret-from-secret"


# --- the services' settings ---------------------------------------------------------------------


def settings_class(service: Service) -> type[ServiceSettings]:
    """The ``ServiceSettings`` subclass that the service's ``config`` module defines."""
    module = importlib.import_module(f"{service.package}.config")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module.__name__
    ]
    assert len(found) == 1, f"{module.__name__} should define one ServiceSettings: {found}"
    return found[0]


def _mentions(annotation: Any, wanted: type) -> bool:
    if annotation is wanted:
        return True
    return any(_mentions(arg, wanted) for arg in typing.get_args(annotation))


def _is_optional(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def env_name(settings: type[ServiceSettings], field: str) -> str:
    info = settings.model_fields[field]
    if isinstance(info.validation_alias, str):
        return info.validation_alias.upper()
    if isinstance(info.alias, str):
        return info.alias.upper()
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def env_names(settings: type[ServiceSettings]) -> dict[str, str]:
    """Environment variable -> field, for every field of the settings."""
    return {env_name(settings, field): field for field in settings.model_fields}


def secret_env_names(settings: type[ServiceSettings]) -> set[str]:
    """Variables of ``SecretStr`` fields: they must come from a Secret, never a literal."""
    return {
        env_name(settings, field)
        for field, info in settings.model_fields.items()
        if _mentions(info.annotation, SecretStr)
    }


def required_in_production(settings: type[ServiceSettings]) -> set[str]:
    """Variables production cannot run without: fields without a default, and secrets that
    are refused at their default outside development (every ``SecretStr`` not ``| None``)."""
    required = set()
    for field, info in settings.model_fields.items():
        if info.is_required() or (
            _mentions(info.annotation, SecretStr) and not _is_optional(info.annotation)
        ):
            required.add(env_name(settings, field))
    return required


def port_fields(settings: type[ServiceSettings]) -> dict[str, int]:
    """Fields that name a port the service listens on (``port``, ``*_port``) -> default."""
    return {
        field: info.default
        for field, info in settings.model_fields.items()
        if (field == "port" or field.endswith("_port")) and isinstance(info.default, int)
    }


def load_settings(
    settings: type[ServiceSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    """Build the settings from exactly ``env``: the test's own ETAWATCH_* variables are removed."""
    for name in list(os.environ):
        if name.startswith("ETAWATCH_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings()


# --- the services' command lines --------------------------------------------------------------


def subcommands(service: Service) -> dict[str, Any]:
    """Name -> click command, for every subcommand of the service's console script.

    The script is found by its entry point, so a renamed script or module fails here too.
    """
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name=service.script)
    app = entry.load()
    assert isinstance(app, typer.Typer), f"{service.script} is not a typer app"
    command = typer.main.get_command(app)
    # typer turns an app with a single command into that command: no subcommands then.
    return dict(getattr(command, "commands", {}))


def service_is_built(service: Service) -> bool:
    """Whether the service has a command beyond ``show-settings`` (the foundation's stub)."""
    return set(subcommands(service)) - {"show-settings"} != set()


def until_built(service: Service, *, strict: bool) -> pytest.MarkDecorator:
    """Mark a check of a service that is still the foundation's stub as expected to fail.

    ``strict``: the check cannot pass on the stub (its commands, its endpoints); otherwise it
    may (its settings). Once the service has its own commands, the check is an ordinary test.
    """
    return pytest.mark.xfail(
        not service_is_built(service),
        reason=f"{service.script} is still the foundation's stub",
        strict=strict,
    )


def check_arguments(service: Service, args: list[str]) -> None:
    """Fail unless ``args`` is a valid invocation of the service's console script."""
    commands = subcommands(service)
    assert args, f"{service.script} is run without a subcommand"
    name, *rest = args
    sub = commands.get(name)
    assert sub is not None, (
        f"{service.script} has no subcommand {name!r} (it has: {sorted(commands)})"
    )
    try:
        sub.make_context(name, list(rest), resilient_parsing=False)
    except typer.Exit:
        return
    except Exception as exc:  # click's usage errors, vendored by typer
        format_message = getattr(exc, "format_message", None)
        message = format_message() if callable(format_message) else str(exc)
        raise AssertionError(f"`{service.script} {' '.join(args)}`: {message}") from exc


def string_constants(directory: Path) -> set[str]:
    """Every string literal in the Python sources under ``directory``."""
    found: set[str] = set()
    for path in directory.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def calls(directory: Path, function: str) -> bool:
    """Whether the Python sources under ``directory`` call a function of that name."""
    for path in directory.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == function:
                    return True
    return False


def served_paths(directory: Path) -> set[str]:
    """Paths answered by a shared server the sources start: prometheus_client's own
    (``start_http_server``: ``/metrics``), or the runtime's probe server (``serving_probes``:
    ``/metrics``, ``/healthz`` and ``/readyz``)."""
    paths = set()
    if calls(directory, "start_http_server"):
        paths.add("/metrics")
    if calls(directory, serving_probes.__name__):
        paths |= {METRICS_PATH, LIVENESS_PATH, READINESS_PATH}
    return paths
