"""Every overlay renders with kustomize and validates, strictly, against a pinned Kubernetes."""

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from etawatch_testing.deploy import K8S, KUBERNETES_VERSION, OVERLAYS, Resource, find, render

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
