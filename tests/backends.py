"""Real PostgreSQL and Redis for the tests, from the first source that works:

1. URLs in the environment: DAIRA_TEST_DATABASE_URL (a superuser URL) and DAIRA_TEST_REDIS_URL;
2. testcontainers, when a Docker engine answers;
3. the embedded binaries (shared.embedded), non-durable, in a temporary directory.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.embedded import EmbeddedPostgres, EmbeddedRedis

# Integration tests open a pool per service under test, so allow plenty of connections.
POSTGRES_FLAGS = "-c max_connections=500 -c fsync=off -c synchronous_commit=off"


@functools.cache
def docker_available() -> bool:
    """True only if an engine answers a ping within a second or two; never raises."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
        return False
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextmanager
def postgres_admin_url() -> Iterator[str]:
    if url := os.environ.get("DAIRA_TEST_DATABASE_URL"):
        yield url
    elif docker_available():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:18", driver=None).with_command(POSTGRES_FLAGS) as pg:
            yield pg.get_connection_url()
    else:
        with _embedded_dir("postgres") as data_dir, EmbeddedPostgres(data_dir, durable=False) as pg:
            yield pg.url


@contextmanager
def redis_url() -> Iterator[str]:
    if url := os.environ.get("DAIRA_TEST_REDIS_URL"):
        yield url
    elif docker_available():
        from testcontainers.community.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(container.port)}/0"
    else:
        with _embedded_dir("redis") as data_dir, EmbeddedRedis(data_dir, durable=False) as server:
            yield server.url


@contextmanager
def _embedded_dir(name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="daira-test-", ignore_cleanup_errors=True) as tmp:
        yield Path(tmp) / name
