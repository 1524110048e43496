"""What a service package declares about itself, so tools find it without a central list.

Every package under services/ exposes `SPEC = ServiceSpec(...)` in its __init__.py.
The runner, the migration command and the test harness discover services by
scanning services/ for that attribute: adding a service means adding its package.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

from shared.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServiceSpec:
    # Short name: package services.<name>, database and role daira_<name>,
    # settings prefix DAIRA_<NAME>_, migrations in migrations/<name>/.
    name: str
    # Default gRPC port (50051 for users, 50052 content, …).
    port: int
    # Default Prometheus port.
    metrics_port: int
    # Fully qualified gRPC service name, e.g. "daira.users.v1.UserService".
    grpc_service: str
    # The cache tiers each process also keeps a near copy of (see shared.nearcache):
    # those read far more often than written, whose writes invalidate or expire quickly.
    near_tiers: tuple[Tier, ...] = (Tier.PROFILES,)

    @property
    def database(self) -> str:
        return f"daira_{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"DAIRA_{self.name.upper()}_"

    @property
    def migrations_dir(self) -> Path:
        return ROOT / "migrations" / self.name

    @property
    def module(self) -> str:
        return f"services.{self.name}"


def discover() -> list[ServiceSpec]:
    """Every service package that declares a SPEC, ordered by port."""
    import services

    specs = []
    for info in pkgutil.iter_modules(services.__path__):
        module = importlib.import_module(f"services.{info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, ServiceSpec):
            specs.append(spec)
    return sorted(specs, key=lambda s: s.port)
