"""deploy/k8s/: valid Kubernetes objects (the schemas ship inside kubernetes-validate, so
this runs offline) that deploy every service as its package expects."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kubernetes

from shared.server import LIVENESS
from shared.service import ROOT, ServiceSpec
from tests.deploy.deployment import SPECS, by_name, environment_names, required_settings

MANIFESTS = ROOT / "deploy" / "k8s"
KINDS = {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# The secrets a service reads; everything else is plain configuration.
SECRET_SETTINGS = ("DATABASE_URL", "REDIS_URL", "AUTH_SECRET")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def objects(spec: ServiceSpec) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in documents(MANIFESTS / f"{spec.name}.yaml")}


def pod(spec: ServiceSpec) -> dict[str, Any]:
    template: dict[str, Any] = objects(spec)["Deployment"]["spec"]["template"]
    return template


def container(spec: ServiceSpec) -> dict[str, Any]:
    (main,) = [c for c in pod(spec)["spec"]["containers"] if c["name"] == spec.name]
    return main


def env(spec: ServiceSpec) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container(spec)["env"]}


@pytest.mark.parametrize("path", sorted(MANIFESTS.glob("*.yaml")), ids=lambda path: path.name)
def test_every_object_is_valid_against_the_kubernetes_schema(path: Path) -> None:
    for doc in documents(path):
        kubernetes.validate(doc, kubernetes.latest_version(), strict=True)


def test_the_schemas_refuse_a_misspelt_field() -> None:
    deployment = objects(SPECS[0])["Deployment"]
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes.ValidationError):
        kubernetes.validate(deployment, kubernetes.latest_version(), strict=True)


def test_no_secret_is_committed() -> None:
    kinds = {doc["kind"] for path in MANIFESTS.glob("*.yaml") for doc in documents(path)}
    assert "Secret" not in kinds


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_has_its_deployment_service_autoscaler_and_disruption_budget(
    spec: ServiceSpec,
) -> None:
    found = objects(spec)
    assert set(found) == KINDS
    labels = pod(spec)["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        selector = found[kind]["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        assert selector.items() <= labels.items()
    target = found["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (
        "Deployment",
        found["Deployment"]["metadata"]["name"],
    )


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_readiness_and_liveness_are_grpc_health_probes_on_the_service_port(
    spec: ServiceSpec,
) -> None:
    main = container(spec)
    assert main["readinessProbe"]["grpc"] == {"port": spec.port}
    assert main["livenessProbe"]["grpc"] == {"port": spec.port, "service": LIVENESS}
    assert {"containerPort": spec.port, "name": "grpc"} in main["ports"]


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_container_has_resource_requests_and_limits(spec: ServiceSpec) -> None:
    for each in pod(spec)["spec"]["containers"] + pod(spec)["spec"].get("initContainers", []):
        assert each["resources"]["requests"]
        assert each["resources"]["limits"]


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_the_pod_migrates_its_database_before_the_service_starts(spec: ServiceSpec) -> None:
    (migrate,) = pod(spec)["spec"]["initContainers"]
    assert migrate["command"] == ["python", "-m", "shared.migrate", spec.name]
    database = f"{spec.env_prefix}DATABASE_URL"
    assert [variable["name"] for variable in migrate["env"]] == [database]
    assert migrate["env"][0] == env(spec)[database]


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_setting_a_service_needs_is_provided(spec: ServiceSpec) -> None:
    assert environment_names(spec, required_settings(spec)) <= set(env(spec))
    assert container(spec)["args"] == [spec.name]


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_secrets_come_from_secret_objects(spec: ServiceSpec) -> None:
    for name, variable in env(spec).items():
        secret = name.removeprefix(spec.env_prefix) in SECRET_SETTINGS or name.endswith("_SECRET")
        if secret:
            assert "secretKeyRef" in variable.get("valueFrom", {}), name


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_addresses_of_other_services_name_their_kubernetes_service(spec: ServiceSpec) -> None:
    for other in SPECS:
        variable = env(spec).get(f"{spec.env_prefix}{other.name.upper()}_ADDRESS")
        if variable is not None:
            assert variable["value"] == f"daira-{other.name}:{other.port}"
            ports = objects(other)["Service"]["spec"]["ports"]
            assert any(port["port"] == other.port for port in ports)


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_pods_run_the_pinned_image_as_a_user_that_is_not_root(spec: ServiceSpec) -> None:
    assert pod(spec)["spec"]["securityContext"]["runAsNonRoot"] is True
    for each in pod(spec)["spec"]["containers"] + pod(spec)["spec"]["initContainers"]:
        assert each["image"] == f"daira:{VERSION}"
