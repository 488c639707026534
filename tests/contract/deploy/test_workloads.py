"""Every workload runs as the restricted Pod Security profile demands, and hangs together."""

import re
from typing import Any

import pytest
from etawatch_testing.deploy import (
    LONG_RUNNING,
    OVERLAYS,
    WORKLOAD_KINDS,
    Resource,
    all_containers,
    find,
    of_kind,
    pod_labels,
    pod_spec,
    render,
    scraper_cronjobs,
)


def workloads(overlay: str) -> list[Resource]:
    return of_kind(render(overlay), *WORKLOAD_KINDS)


def restricted_violations(resource: Resource) -> list[str]:
    """What the restricted Pod Security Standard, and our own rules on top, find wrong."""
    spec = pod_spec(resource)
    pod_sc: dict[str, Any] = spec.get("securityContext", {})
    found = []
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            found.append(f"{flag} is set")
    for volume in spec.get("volumes", []):
        allowed = {"name", "emptyDir", "configMap", "secret", "persistentVolumeClaim", "projected"}
        if set(volume) - allowed:
            found.append(f"volume {volume['name']} is of a kind restricted pods may not use")
    if spec.get("automountServiceAccountToken", True):
        found.append("the service account token is mounted (no workload talks to the API)")
    mounts_tmp = False
    for container in all_containers(resource):
        sc: dict[str, Any] = container.get("securityContext", {})
        name = container["name"]
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            found.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            found.append(f"{name}: runs as uid 0")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        if sc.get("privileged"):
            found.append(f"{name}: privileged")
        if sc.get("readOnlyRootFilesystem") is not True:
            found.append(f"{name}: the root filesystem is writable")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            found.append(f"{name}: capabilities are not all dropped")
        if sc.get("capabilities", {}).get("add"):
            found.append(f"{name}: adds capabilities")
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: no RuntimeDefault seccomp profile")
        for port in container.get("ports", []):
            if "hostPort" in port:
                found.append(f"{name}: uses a host port")
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if what not in resources.get(bound, {}):
                    found.append(f"{name}: no {what} {bound[:-1]}")
        image = str(container["image"])
        if image.endswith(":latest") or not re.search(r"(:[\w.-]+|@sha256:[0-9a-f]{64})$", image):
            found.append(f"{name}: image {image} is not pinned to a tag or digest")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        if "/tmp" in mounts:
            volume = next(v for v in spec.get("volumes", []) if v["name"] == mounts["/tmp"])
            mounts_tmp = "emptyDir" in volume
    if not mounts_tmp:
        found.append("no emptyDir for /tmp under the read-only root filesystem")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_passes_the_restricted_settings(overlay: str) -> None:
    found = workloads(overlay)
    assert len(found) >= 5  # three Deployments, the scraper's CronJob, the database Job
    problems = {f"{r['kind']}/{r['metadata']['name']}": restricted_violations(r) for r in found}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


def test_the_restricted_check_catches_a_privileged_container() -> None:
    """The check above can fail: a container that keeps its capabilities is caught."""
    deployment = find(render("production"), "Deployment", "etawatch-ledger")
    container = pod_spec(deployment)["containers"][0]
    container["securityContext"] = {**container["securityContext"], "capabilities": {}}
    container["securityContext"]["readOnlyRootFilesystem"] = False
    problems = restricted_violations(deployment)
    assert "ledger: capabilities are not all dropped" in problems
    assert "ledger: the root filesystem is writable" in problems


@pytest.mark.parametrize(
    ("overlay", "enforced"),
    [("production", "restricted"), ("dev", "baseline")],  # dev hosts the operators' pods
)
def test_namespace_enforces_pod_security(overlay: str, enforced: str) -> None:
    (namespace,) = of_kind(render(overlay), "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == enforced
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    for resource in render(overlay):
        if resource["kind"] != "Namespace":  # everything lands in that namespace
            assert resource["metadata"].get("namespace") == namespace["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", LONG_RUNNING, ids=lambda s: s.name)
def test_long_running_service_has_probes_pdb_and_service(overlay: str, service: Any) -> None:
    resources = render(overlay)
    deployment = find(resources, "Deployment", service.workload)
    (container,) = pod_spec(deployment)["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert "httpGet" in container.get(probe, {}), f"{service.name} has no HTTP {probe}"
    # Liveness asks only whether the process runs; readiness whether its dependencies answer.
    # /metrics answers either way, so it is neither.
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    startup = container.get("startupProbe")
    assert startup is None or startup["httpGet"]["path"] == "/healthz", "startup is liveness"
    labels = pod_labels(deployment)
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    pdb = find(resources, "PodDisruptionBudget", service.workload)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = find(resources, "Service", service.workload)
    assert svc["spec"]["selector"].items() <= labels.items()
    port_names = {p["name"] for p in container["ports"]}
    for port in svc["spec"]["ports"]:
        assert port["targetPort"] in port_names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_query_api_and_notifier_scale_horizontally(overlay: str) -> None:
    resources = render(overlay)
    for name in ("etawatch-query-api", "etawatch-notifier"):
        hpa = find(resources, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        (container,) = pod_spec(find(resources, "Deployment", name))["containers"]
        assert "cpu" in container["resources"]["requests"], "CPU utilisation needs a request"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scraper_runs_one_cronjob_per_profile_safely(overlay: str) -> None:
    resources = render(overlay)
    cronjobs = scraper_cronjobs(resources)
    assert cronjobs
    for cronjob in cronjobs:
        spec = cronjob["spec"]
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["startingDeadlineSeconds"] > 0
        assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0
        profile = cronjob["metadata"]["labels"]["etawatch.io/profile"]
        pod = pod_spec(cronjob)
        volumes = {v["name"]: v for v in pod["volumes"]}
        (container,) = pod["containers"]
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
        assert mounts["/dev/shm"]["emptyDir"]["medium"] == "Memory"
        profile_volume = next(v for v in mounts.values() if "configMap" in v)
        config_map = find(resources, "ConfigMap", profile_volume["configMap"]["name"])
        assert config_map["metadata"]["name"].startswith(f"etawatch-scraper-profile-{profile}")
        secrets = {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in container["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        assert f"etawatch-scraper-{profile}" in secrets, "portal credentials from a Secret"
        claim = next(v for v in mounts.values() if "persistentVolumeClaim" in v)
        find(resources, "PersistentVolumeClaim", claim["persistentVolumeClaim"]["claimName"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_default_deny_covers_every_workload(overlay: str) -> None:
    resources = render(overlay)
    deny = find(resources, "NetworkPolicy", "etawatch-default-deny")
    assert sorted(deny["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    selector = deny["spec"]["podSelector"].get("matchLabels", {})
    for resource in of_kind(resources, *WORKLOAD_KINDS):
        assert selector.items() <= pod_labels(resource).items(), resource["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_allows_reach_only_what_each_workload_needs(overlay: str) -> None:
    """Each allow selects workloads that exist, and each workload may reach what it uses."""
    resources = render(overlay)
    policies = [p for p in of_kind(resources, "NetworkPolicy") if p["spec"].get("egress")]

    def egress_ports(labels: dict[str, str]) -> set[int]:
        ports: set[int] = set()
        for policy in policies:
            if policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items():
                for rule in policy["spec"]["egress"]:
                    ports |= {p["port"] for p in rule.get("ports", [])}
        return ports

    needs = {
        "etawatch-ledger": {53, 5672, 5432},
        "etawatch-notifier": {53, 5672, 5432, 587},
        "etawatch-query-api": {53, 5672, 5432},
        "etawatch-scraper-example": {53, 5672, 443, 9091},  # 9091: a Pushgateway
        "etawatch-db-prepare": {53, 5432},
        "etawatch-query-api-rebuild": {53, 5432},
    }
    for resource in of_kind(resources, *WORKLOAD_KINDS):
        name = resource["metadata"]["name"]
        allowed = egress_ports(pod_labels(resource))
        assert needs[name] <= allowed, f"{name} cannot reach {needs[name] - allowed}"
    scraper = pod_labels(find(resources, "CronJob", "etawatch-scraper-example"))
    assert 5432 not in egress_ports(scraper)
    rebuild = pod_labels(find(resources, "CronJob", "etawatch-query-api-rebuild"))
    assert 5672 not in egress_ports(rebuild)  # it reads and writes PostgreSQL only


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_rebuild_runs_only_when_started_by_hand_with_what_it_needs(overlay: str) -> None:
    resources = render(overlay)
    cronjob = find(resources, "CronJob", "etawatch-query-api-rebuild")
    assert cronjob["spec"]["suspend"] is True
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = pod_spec(cronjob)["containers"]
    assert container["args"] == ["rebuild"]
    assert (
        container["image"]
        == find(resources, "Deployment", "etawatch-query-api")["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
    )
    assert container["resources"]["requests"]["cpu"] == "2"  # the reading process
    secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
    assert secrets == {"etawatch-ledger-reader-db", "etawatch-query-api-db"}
