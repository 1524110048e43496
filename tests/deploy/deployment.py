"""What a deployment of each service must provide, read from the service packages.

The compose and Kubernetes checks share it: the services `discover()` finds, plus
moderation before its package lands (the shared settings, and the addresses of users
and content, which it calls).
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from pydantic import SecretStr

from shared.config import ServiceSettings
from shared.service import ROOT, ServiceSpec, discover

MODERATION = ServiceSpec(
    name="moderation",
    port=50055,
    metrics_port=9155,
    grpc_service="daira.moderation.v1.ModerationService",
)
MODERATION_CALLS = frozenset({"users", "content"})


def _specs() -> list[ServiceSpec]:
    found = discover()
    if all(spec.name != MODERATION.name for spec in found):
        found.append(MODERATION)
    return sorted(found, key=lambda spec: spec.port)


SPECS = _specs()
NAMES = frozenset(spec.name for spec in SPECS)

# Where a service runs and what it connects to: never left to the defaults.
ALWAYS = ("database_url", "redis_url", "auth_secret", "host", "port", "metrics_port")
CALLS = re.compile(r"""\.client\(\s*["'](\w+)["']|\b(\w+)_address\b""")


def by_name(spec: ServiceSpec) -> str:
    return spec.name


def package_dir(spec: ServiceSpec) -> Path:
    return ROOT / "services" / spec.name


def settings_class(spec: ServiceSpec) -> type[ServiceSettings]:
    """The ServiceSettings subclass in services/<name>/settings.py (the base without one)."""
    if not (package_dir(spec) / "settings.py").exists():
        return ServiceSettings
    module = importlib.import_module(f"{spec.module}.settings")
    classes = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{module.__name__} defines {classes}"
    return classes[0]


def called_services(spec: ServiceSpec) -> frozenset[str]:
    """The services whose address this service's code reads."""
    if not package_dir(spec).exists():
        return MODERATION_CALLS
    names = set()
    for source in package_dir(spec).rglob("*.py"):
        for client, address in CALLS.findall(source.read_text()):
            names.add(client or address)
    return frozenset(names & NAMES - {spec.name})


def required_settings(spec: ServiceSpec) -> set[str]:
    """Settings a deployment must set: where it runs and connects, the addresses it calls,
    and every secret whose default is a development placeholder."""
    fields = settings_class(spec).model_fields
    secrets = {
        name
        for name, field in fields.items()
        if isinstance(field.default, SecretStr) and name != "auth_secret"
    }
    addresses = {f"{name}_address" for name in called_services(spec)}
    return {*ALWAYS, *addresses, *secrets}


def environment_names(spec: ServiceSpec, settings: set[str]) -> set[str]:
    return {f"{spec.env_prefix}{name.upper()}" for name in settings}
