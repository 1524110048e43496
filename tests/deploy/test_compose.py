"""docker-compose.yml and the PostgreSQL init script stay in step with the service packages.

No Docker engine is needed: these read the files as compose and the init script would.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from shared.embedded import POSTGRES_BIN_PATH
from shared.service import ROOT, ServiceSpec
from tests.deploy.deployment import (
    SPECS,
    by_name,
    environment_names,
    required_settings,
    settings_class,
)

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
INIT_SCRIPT = (ROOT / "deploy" / "postgres-init.sh").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
STORES = ("postgres", "redis")


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_has_a_migration_job_before_it_starts(spec: ServiceSpec) -> None:
    job = SERVICES[f"{spec.name}-migrate"]
    assert job["entrypoint"] == ["python", "-m", "shared.migrate", spec.name]
    assert job["restart"] == "no"
    depends = SERVICES[spec.name]["depends_on"]
    assert depends[f"{spec.name}-migrate"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_waits_for_healthy_stores(spec: ServiceSpec) -> None:
    depends = SERVICES[spec.name]["depends_on"]
    for store in STORES:
        assert depends[store] == {"condition": "service_healthy"}
        assert SERVICES[store]["healthcheck"]["test"]


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_listens_and_is_health_checked_on_its_own_port(spec: ServiceSpec) -> None:
    service = SERVICES[spec.name]
    env = service["environment"]
    assert service["command"] == [spec.name]
    assert service["ports"] == [f"{spec.port}:{spec.port}"]
    assert env[f"{spec.env_prefix}PORT"] == str(spec.port)
    assert env[f"{spec.env_prefix}METRICS_PORT"] == str(spec.metrics_port)
    probe = ["CMD", "python", "-m", "shared.healthcheck", f"127.0.0.1:{spec.port}"]
    assert service["healthcheck"]["test"] == probe


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_restarts_after_a_crash(spec: ServiceSpec) -> None:
    assert SERVICES[spec.name]["restart"] in ("unless-stopped", "always", "on-failure")


def test_ports_are_unique() -> None:
    published = [port for service in SERVICES.values() for port in service.get("ports", [])]
    assert len(published) == len(set(published))
    assert len({spec.port for spec in SPECS} | {spec.metrics_port for spec in SPECS}) == 2 * len(
        SPECS
    )


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_setting_a_service_needs_is_provided(spec: ServiceSpec) -> None:
    env = SERVICES[spec.name]["environment"]
    missing = environment_names(spec, required_settings(spec)) - set(env)
    assert not missing


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_variable_given_to_a_service_is_one_of_its_settings(spec: ServiceSpec) -> None:
    known = environment_names(spec, set(settings_class(spec).model_fields))
    assert set(SERVICES[spec.name]["environment"]) <= known


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_secrets_come_from_the_environment_and_the_example_names_them(spec: ServiceSpec) -> None:
    env = SERVICES[spec.name]["environment"]
    for name, value in env.items():
        if name.endswith(("_SECRET", "_PASSWORD", "_KEY")):
            variable = re.fullmatch(r"\$\{(\w+):\?[^}]*\}", value)
            assert variable, f"{name} must come from the environment"
            assert re.search(rf"^{variable[1]}=", ENV_EXAMPLE, re.MULTILINE)


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_uses_its_own_database_and_role(spec: ServiceSpec) -> None:
    role = spec.database
    password = f"DAIRA_{spec.name.upper()}_DB_PASSWORD"
    url = f"postgresql+psycopg://{role}:${{{password}}}@postgres:5432/{role}"
    assert SERVICES[spec.name]["environment"][f"{spec.env_prefix}DATABASE_URL"] == url
    assert SERVICES[f"{spec.name}-migrate"]["environment"][f"{spec.env_prefix}DATABASE_URL"] == url
    assert re.search(rf'^create {spec.name} "\${password}"$', INIT_SCRIPT, re.MULTILINE)
    assert password in SERVICES["postgres"]["environment"]
    assert re.search(rf"^{password}=", ENV_EXAMPLE, re.MULTILINE)


def test_each_role_may_connect_to_its_own_database_only() -> None:
    assert "REVOKE CONNECT ON DATABASE $name FROM PUBLIC;" in INIT_SCRIPT
    assert "CREATE DATABASE $name OWNER $name;" in INIT_SCRIPT


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_addresses_of_other_services_name_their_compose_service_and_port(
    spec: ServiceSpec,
) -> None:
    env = SERVICES[spec.name]["environment"]
    for other in SPECS:
        address = env.get(f"{spec.env_prefix}{other.name.upper()}_ADDRESS")
        assert address in (None, f"{other.name}:{other.port}")


def test_images_are_pinned_by_version() -> None:
    for name, service in SERVICES.items():
        image, _, tag = service["image"].partition(":")
        assert re.fullmatch(r"\d+(\.\d+)+", tag), f"{name}: {service['image']}"
        if "build" in service:
            assert (image, tag) == ("daira", VERSION)


def test_postgres_is_the_major_version_of_the_embedded_one() -> None:
    embedded = subprocess.run(
        [str(POSTGRES_BIN_PATH / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"(\d+)\.\d+", embedded)
    assert found, embedded
    assert SERVICES["postgres"]["image"].split(":")[1].split(".")[0] == found[1]
