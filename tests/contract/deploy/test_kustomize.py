"""Every overlay renders with kustomize and validates, strictly, against a pinned Kubernetes."""

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from etawatch_testing.deploy import (
    K8S,
    KUBERNETES_VERSION,
    OVERLAYS,
    ROOT,
    WORKLOAD_KINDS,
    Resource,
    all_containers,
    find,
    of_kind,
    pod_spec,
    render,
)

SCHEMAS = K8S / "schemas"


def custom_schema(resource: Resource) -> Path:
    group_version = str(resource["apiVersion"])
    return SCHEMAS / group_version / f"{str(resource['kind']).lower()}.json"


def is_custom(resource: Resource) -> bool:
    group = resource["apiVersion"].rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def validate(resource: Resource) -> None:
    """Raise unless the resource matches its schema: Kubernetes' own, or a kept CRD schema."""
    if is_custom(resource):
        path = custom_schema(resource)
        assert path.is_file(), f"no schema for {resource['apiVersion']} {resource['kind']}: {path}"
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(resource)
    else:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_validates_strictly(overlay: str) -> None:
    resources = render(overlay)
    assert resources, f"{overlay} renders nothing"
    failures = []
    for resource in resources:
        try:
            validate(resource)
        except Exception as exc:  # every failure is reported, not only the first
            failures.append(f"{resource['kind']}/{resource['metadata']['name']}: {exc}")
    assert not failures, "\n".join(failures)


def test_dev_overlay_brings_postgres_and_rabbitmq_through_their_operators() -> None:
    resources = render("dev")
    assert find(resources, "Cluster", "etawatch-pg")["apiVersion"] == "postgresql.cnpg.io/v1"
    rabbit = find(resources, "RabbitmqCluster", "etawatch-rabbit")
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"


def test_production_overlay_runs_no_database_or_broker_of_its_own() -> None:
    kinds = {r["kind"] for r in render("production")}
    assert not kinds & {"Cluster", "RabbitmqCluster", "StatefulSet"}


@pytest.mark.parametrize(
    ("overlay", "kind", "path", "bad"),
    [
        (
            "production",
            "Deployment",
            ("spec", "template", "spec", "containers", 0),
            "imagePullPolcy",
        ),
        ("production", "CronJob", ("spec",), "concurencyPolicy"),
        ("dev", "Cluster", ("spec",), "instance"),
        ("dev", "RabbitmqCluster", ("spec",), "replica"),
        ("dev", "Cluster", ("spec", "bootstrap", "initdb"), "databse"),
    ],
)
def test_validation_refuses_a_misspelt_field(
    overlay: str, kind: str, path: tuple[Any, ...], bad: str
) -> None:
    """The strict check is real: a misspelt field in any kind of resource is refused."""
    resource = copy.deepcopy(next(r for r in render(overlay) if r["kind"] == kind))
    node: Any = resource
    for step in path:
        node = node[step]
    node[bad] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate(resource)


def test_custom_resource_of_unknown_kind_is_not_waved_through() -> None:
    resource = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(AssertionError, match="no schema"):
        validate(resource)


def test_kept_crd_schemas_are_valid_json_schemas() -> None:
    paths = sorted(SCHEMAS.rglob("*.json"))
    assert len(paths) >= 2
    for path in paths:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


@pytest.mark.parametrize("path", kustomizations(), ids=lambda p: str(p.relative_to(K8S)))
def test_kustomizations_use_labels_and_patches_not_deprecated_fields(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    deprecated = {"commonLabels", "patchesStrategicMerge", "patchesJson6902", "bases", "vars"}
    assert not deprecated & set(data), f"{path}: deprecated {deprecated & set(data)}"


@pytest.mark.parametrize("path", kustomizations(), ids=lambda p: str(p.relative_to(K8S)))
def test_no_secret_values_in_git(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "secretGenerator" not in data, f"{path}: secrets are created outside git"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_render_no_secret_objects(overlay: str) -> None:
    secrets = [r["metadata"]["name"] for r in render(overlay) if r["kind"] == "Secret"]
    assert not secrets, f"Secrets are created by the operators, not kept in git: {secrets}"
    text = "\n".join(yaml.safe_dump(r) for r in render(overlay))
    assert "password:" not in text.lower().replace("pgpassword", "")


def referenced_secrets(resources: list[Resource]) -> dict[str, set[str]]:
    """Secret name -> the keys the workloads read from it."""
    found: dict[str, set[str]] = {}
    for resource in of_kind(resources, *WORKLOAD_KINDS):
        for spec in all_containers(resource):
            for item in spec.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    found.setdefault(ref["name"], set()).add(ref["key"])
        for volume in pod_spec(resource).get("volumes", []):
            if "secret" in volume:
                found.setdefault(volume["secret"]["secretName"], set())
    return found


def test_dev_secrets_are_made_by_the_script_or_by_an_operator() -> None:
    resources = render("dev")
    script = (K8S / "overlays" / "dev" / "make-secrets.sh").read_text(encoding="utf-8")
    made_by_script = set(re.findall(r"\b(etawatch-[a-z-]+)\b", script))
    cluster = find(resources, "Cluster", "etawatch-pg")["metadata"]["name"]
    made_by_operators = {f"{cluster}-superuser", f"{cluster}-app"}
    missing = set(referenced_secrets(resources)) - made_by_script - made_by_operators
    assert not missing, f"nobody creates {sorted(missing)} in dev"
    assert f"{cluster}-superuser" not in referenced_secrets(resources) or find(
        resources, "Cluster", "etawatch-pg"
    )["spec"].get("enableSuperuserAccess"), "the superuser Secret exists only when enabled"


def test_make_secrets_script_is_valid_bash() -> None:
    script = K8S / "overlays" / "dev" / "make-secrets.sh"
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def test_production_secrets_are_all_documented() -> None:
    """Every Secret production reads, with its keys, is in the table operators work from."""
    readme = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    rows = {
        match[0]: set(re.findall(r"`(\w+)`", match[1]))
        for match in re.findall(r"^\| `(etawatch-[a-z<>-]+)` \| ([^|]+) \|", readme, flags=re.M)
    }
    for name, keys in referenced_secrets(render("production")).items():
        documented = rows.get(name) or rows.get(
            re.sub(r"^etawatch-scraper-.*", "etawatch-scraper-<profile>", name)
        )
        assert documented is not None, f"{name} is not in deploy/README.md's Secret table"
        assert keys <= documented, f"{name}: keys {sorted(keys - documented)} are not documented"
