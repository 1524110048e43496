"""docker-compose.yml and the PostgreSQL init script stay in step with the service packages.

No Docker engine is needed: these read the files as compose and the init script would.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from shared.service import ROOT, ServiceSpec, discover

SPECS = discover()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
INIT_SCRIPT = (ROOT / "deploy" / "postgres-init.sh").read_text()


def by_name(spec: ServiceSpec) -> str:
    return spec.name


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_has_a_migration_job_before_it_starts(spec: ServiceSpec) -> None:
    job = SERVICES[f"{spec.name}-migrate"]
    assert job["entrypoint"] == ["python", "-m", "shared.migrate", spec.name]
    depends = SERVICES[spec.name]["depends_on"]
    assert depends[f"{spec.name}-migrate"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_listens_and_is_health_checked_on_its_own_port(spec: ServiceSpec) -> None:
    service = SERVICES[spec.name]
    env = service["environment"]
    assert service["command"] == [spec.name]
    assert service["ports"] == [f"{spec.port}:{spec.port}"]
    assert env[f"{spec.env_prefix}PORT"] == str(spec.port)
    assert env[f"{spec.env_prefix}METRICS_PORT"] == str(spec.metrics_port)
    assert f"127.0.0.1:{spec.port}" in service["healthcheck"]["test"]


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_every_service_uses_its_own_database_and_role(spec: ServiceSpec) -> None:
    role = spec.database
    url = f"postgresql+psycopg://{role}:${{DAIRA_{spec.name.upper()}_DB_PASSWORD}}@postgres:5432/{role}"
    assert SERVICES[spec.name]["environment"][f"{spec.env_prefix}DATABASE_URL"] == url
    assert SERVICES[f"{spec.name}-migrate"]["environment"][f"{spec.env_prefix}DATABASE_URL"] == url
    assert re.search(rf'^create {spec.name} "\$DAIRA_{spec.name.upper()}_DB_PASSWORD"$',
                     INIT_SCRIPT, re.MULTILINE)  # fmt: skip
    assert f"DAIRA_{spec.name.upper()}_DB_PASSWORD" in SERVICES["postgres"]["environment"]


@pytest.mark.parametrize("spec", SPECS, ids=by_name)
def test_addresses_of_other_services_name_their_compose_service_and_port(
    spec: ServiceSpec,
) -> None:
    env = SERVICES[spec.name]["environment"]
    for other in SPECS:
        address = env.get(f"{spec.env_prefix}{other.name.upper()}_ADDRESS")
        assert address in (None, f"{other.name}:{other.port}")
