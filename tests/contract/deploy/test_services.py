"""The manifests and the services agree: settings, secrets, ports, probe paths and commands.

The settings classes and the command lines are imported from the services themselves, so a
renamed setting, a new required secret, a moved port or a renamed subcommand fails here.
"""

import importlib
from pathlib import Path
from typing import Any

import pytest
from etawatch_testing.deploy import (
    OVERLAYS,
    SERVICES,
    Service,
    check_arguments,
    container,
    container_env,
    env_name,
    env_names,
    find,
    load_settings,
    pod_spec,
    port_fields,
    render,
    required_in_production,
    resolved_env,
    scraper_cronjobs,
    secret_env_names,
    served_paths,
    settings_class,
    string_constants,
    until_built,
    workload,
)

from etawatch.runtime.health import LOOP_GRACE
from etawatch.runtime.settings import ProbedServiceSettings


def cases(*, strict: bool, services: tuple[Service, ...] = SERVICES) -> list[Any]:
    """(overlay, service) pairs, marked while the service is still the foundation's stub."""
    return [
        pytest.param(
            overlay,
            service,
            marks=until_built(service, strict=strict),
            id=f"{overlay}-{service.name}",
        )
        for overlay in OVERLAYS
        for service in services
    ]


CASES = cases(strict=False)


def service_container(overlay: str, service: Service) -> dict[str, Any]:
    return container(workload(render(overlay), service), service.container)


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_every_variable_production_requires_is_provided(overlay: str, service: Service) -> None:
    settings = settings_class(service)
    env = container_env(render(overlay), service_container(overlay, service))
    missing = required_in_production(settings) - set(env)
    if overlay == "dev" and service.name == "notifier":
        missing.discard("ETAWATCH_SMTP_URL")  # dev writes .eml files instead of sending
    assert not missing, f"{service.name} needs {sorted(missing)} in production"


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_every_etawatch_variable_is_a_setting_of_the_service(
    overlay: str, service: Service
) -> None:
    known = env_names(settings_class(service))
    env = container_env(render(overlay), service_container(overlay, service))
    unknown = {name for name in env if name.startswith("ETAWATCH_")} - set(known)
    assert not unknown, f"{service.name} has no setting for {sorted(unknown)}"


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_secrets_come_from_secrets_only(overlay: str, service: Service) -> None:
    env = container_env(render(overlay), service_container(overlay, service))
    for name in secret_env_names(settings_class(service)) & set(env):
        assert env[name].secret is not None, f"{name} must come from a Secret (secretKeyRef)"


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_settings_load_in_production_from_the_manifest(
    overlay: str, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's own settings class accepts the environment the manifest gives it."""
    resources = render(overlay)
    env = resolved_env(resources, service_container(overlay, service))
    settings = load_settings(settings_class(service), env, monkeypatch)
    assert settings.environment == "production"


def test_a_missing_secret_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: without its AMQP URL the ledger refuses to start."""
    ledger = next(s for s in SERVICES if s.name == "ledger")
    env = resolved_env(render("production"), service_container("production", ledger))
    del env["ETAWATCH_AMQP_URL"]
    with pytest.raises(ValueError, match="ETAWATCH_AMQP_URL"):
        load_settings(settings_class(ledger), env, monkeypatch)


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_ports_match_the_settings(overlay: str, service: Service) -> None:
    """A container port is what a port setting says, and the manifest sets that setting."""
    settings = settings_class(service)
    spec = service_container(overlay, service)
    env = resolved_env(render(overlay), spec)
    names = {field: name for name, field in env_names(settings).items()}
    declared = {p["containerPort"]: p["name"] for p in spec.get("ports", [])}
    if service.name == "scraper":
        assert not declared, "a scraper run is a Job: nothing connects to it"
        return
    for field in port_fields(settings):
        assert names[field] in env, f"{names[field]} is not set: the port would be implicit"
        assert int(env[names[field]]) in declared, (
            f"{names[field]}={env[names[field]]} but the container declares {declared}"
        )
    assert set(declared) <= {int(env[names[f]]) for f in port_fields(settings)}, (
        f"{service.name} declares a port no setting opens"
    )
    if "host" in settings.model_fields:
        assert env[names["host"]] in ("0.0.0.0", "::"), "a pod must listen on all addresses"


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_probes_use_declared_ports(overlay: str, service: Service) -> None:
    spec = service_container(overlay, service)
    names = {p["name"] for p in spec.get("ports", [])}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if probe in spec:
            assert spec[probe]["httpGet"]["port"] in names


@pytest.mark.parametrize(
    ("overlay", "service"),
    cases(strict=True, services=tuple(s for s in SERVICES if s.name != "scraper")),
)
def test_probe_paths_are_served_by_the_service(overlay: str, service: Service) -> None:
    """Each probed path is written in the service's code (a route or a constant), or is
    served by the shared server the service starts (prometheus_client's, or the probes')."""
    spec = service_container(overlay, service)
    literals = string_constants(service.source) | served_paths(service.source)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if probe in spec:
            path = spec[probe]["httpGet"]["path"]
            assert path in literals, f"{service.name} serves no {path} ({probe})"


PROBED = tuple(s for s in SERVICES if issubclass(settings_class(s), ProbedServiceSettings))
"""Consumers whose metrics port answers the runtime's probes."""


def test_the_consumers_answer_the_runtime_probes() -> None:
    assert {s.name for s in PROBED} == {"ledger", "notifier"}


@pytest.mark.parametrize(("overlay", "service"), cases(strict=True, services=PROBED))
def test_readiness_answers_within_the_probe_timeout(
    overlay: str, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/readyz`` takes at most its checks' timeout plus ``LOOP_GRACE``; the kubelet must wait
    longer, or a slow database reads as a probe timeout instead of a body naming it."""
    spec = service_container(overlay, service)
    env = resolved_env(render(overlay), spec)
    settings = load_settings(settings_class(service), env, monkeypatch)
    assert isinstance(settings, ProbedServiceSettings)
    longest = settings.readiness_timeout_seconds + LOOP_GRACE
    assert spec["readinessProbe"]["timeoutSeconds"] > longest


@pytest.mark.parametrize(("overlay", "service"), cases(strict=True))
def test_container_runs_a_real_subcommand(overlay: str, service: Service) -> None:
    spec = service_container(overlay, service)
    assert "command" not in spec, "the image's entrypoint is the console script"
    check_arguments(service, list(spec["args"]))


def test_unknown_subcommand_is_caught() -> None:
    ledger = next(s for s in SERVICES if s.name == "ledger")
    with pytest.raises(AssertionError, match="no subcommand 'bogus'"):
        check_arguments(ledger, ["bogus"])


SCRAPER = next(s for s in SERVICES if s.name == "scraper")


@pytest.mark.parametrize(
    "overlay", [pytest.param(o, marks=until_built(SCRAPER, strict=False)) for o in OVERLAYS]
)
def test_scraper_profiles_in_config_maps_load(overlay: str, tmp_path: Path) -> None:
    """Each CronJob's profile is one the scraper itself accepts (its own loader)."""
    profiles = importlib.import_module("etawatch.scraper.adapters.profiles")
    resources = render(overlay)
    for cronjob in scraper_cronjobs(resources):
        volume = next(v for v in pod_spec(cronjob)["volumes"] if "configMap" in v)
        data = find(resources, "ConfigMap", volume["configMap"]["name"])["data"]
        (name,) = data
        path = tmp_path / name
        path.write_text(data[name], encoding="utf-8")
        profile = profiles.load_profile(path)
        assert profile.name == cronjob["metadata"]["labels"]["etawatch.io/profile"]


NOTIFIER = next(s for s in SERVICES if s.name == "notifier")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_notifier_has_an_operator_to_alert(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ScrapeHealthDegraded`` is mailed to the operator address; a deployment without one
    would only count the alerts, and nobody would hear that a portal keeps failing."""
    settings = settings_class(NOTIFIER)
    env = resolved_env(render(overlay), service_container(overlay, NOTIFIER))
    assert env_name(settings, "operator_email") in env, "no operator address for alerts"
    assert load_settings(settings, env, monkeypatch).model_dump()["operator_email"]
