"""Typed settings read from the environment, one prefix per service (DAIRA_USERS_…)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service reads; a service subclasses it to add its own."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = "postgresql+psycopg://daira@127.0.0.1:5432/daira"
    redis_url: str = "redis://127.0.0.1:6379/0"
    host: str = "127.0.0.1"
    port: int = 0
    # 0 turns the Prometheus endpoint off.
    metrics_port: int = 0
    auth_secret: SecretStr = SecretStr("insecure-development-secret-change-me!")
    access_token_ttl_seconds: int = 300
    # Connections kept open, and opened past those for a burst (and closed after it). Kept
    # enough for 32 concurrent requests: a saturated service holds one per request in
    # flight besides its event consumers' and its relay's, and at 20 kept social opened
    # and closed 8 connections a second under load, each costing it and PostgreSQL a few
    # ms of CPU.
    db_pool_size: int = 32
    db_max_overflow: int = 8
    db_pool_timeout_seconds: float = 5.0
    db_pool_recycle_seconds: int = 1800
    slow_query_ms: float = 200.0
    # How long a process may serve its own copy of a hot cache entry (0 turns that off).
    cache_near_ttl_seconds: float = 2.0
    max_concurrent_rpcs: int = 512
    shutdown_grace_seconds: float = 10.0
    # Processes serving one port (SO_REUSEPORT); worker k serves metrics on metrics_port + k.
    workers: int = Field(default=1, ge=1)
    # How often health is re-checked (database reachable, migrations at head).
    readiness_interval_seconds: float = Field(default=2.0, gt=0)
    # An OTLP/gRPC collector ("host:4317") to send traces to; empty turns tracing off.
    otlp_endpoint: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    # Addresses of the other services, "host:port", for calls between services.
    users_address: str = "127.0.0.1:50051"
    content_address: str = "127.0.0.1:50052"
    social_address: str = "127.0.0.1:50053"
    payments_address: str = "127.0.0.1:50054"
    moderation_address: str = "127.0.0.1:50055"
    # Domain events: every stream name starts with this, so deployments (or test runs)
    # sharing one Redis keep apart; how long the relay gathers commits into one batch, the
    # longest an idle relay sleeps without being told of a commit (shared.relay), and how
    # long a consumer's read waits (keep it below the Redis socket timeout of 0.5 s).
    events_stream_prefix: str = "daira"
    events_poll_seconds: float = 0.05
    events_idle_seconds: float = 0.5
    events_block_seconds: float = 0.2
    events_max_attempts: int = 5
    events_backoff_seconds: float = 0.5
    events_backoff_max_seconds: float = 30.0
    events_claim_idle_seconds: float = 60.0


T = TypeVar("T", bound=ServiceSettings)


def load_settings(cls: type[T], service: str) -> T:
    """Read `cls` from the environment under the prefix DAIRA_<SERVICE>_."""

    class _FromEnv(cls):  # type: ignore[valid-type,misc]
        model_config = SettingsConfigDict(
            env_prefix=f"DAIRA_{service.upper()}_", extra="ignore", frozen=True
        )

    return cls.model_validate(_FromEnv().model_dump())
