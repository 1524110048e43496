"""Health follows readiness: NOT_SERVING while migrations are behind or PostgreSQL is away.

The outage test stops and restarts a PostgreSQL of its own, so the session's shared
server (and every other test on it) never notices.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.users import SPEC
from services.users.api import build
from shared.embedded import EmbeddedPostgres
from shared.migrate import scripts, upgrade
from shared.provision import provision_service_database
from shared.server import LIVENESS, RunningServer, start
from tests.ops import health
from tests.users.conftest import users_settings

PASSWORD = "readiness-test-password"


async def provisioned(admin_url: str) -> str:
    """A new, empty users database and role; the service's URL."""
    database = f"daira_users_ready_{uuid.uuid4().hex[:8]}"
    return await asyncio.to_thread(provision_service_database, admin_url, database, PASSWORD)


async def serve_users(database_url: str, redis_url: str) -> RunningServer:
    settings = users_settings(database_url, redis_url).model_copy(
        update={"readiness_interval_seconds": 0.1}
    )
    return await start(SPEC, settings, build, access_log=False)


@pytest.fixture
async def unmigrated(pg_admin_url: str, redis_url: str) -> AsyncIterator[tuple[str, RunningServer]]:
    url = await provisioned(pg_admin_url)
    running = await serve_users(url, redis_url)
    yield url, running
    await running.stop(0)


async def test_health_is_not_serving_before_any_migration(
    unmigrated: tuple[str, RunningServer],
) -> None:
    _, running = unmigrated
    assert not await running.check_readiness()
    assert await health.status(running.port, SPEC.grpc_service) == health.NOT_SERVING


async def test_health_is_not_serving_while_the_schema_is_a_revision_behind(
    unmigrated: tuple[str, RunningServer],
) -> None:
    url, running = unmigrated
    script = scripts(SPEC.migrations_dir)
    (head,) = script.get_heads()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    await asyncio.to_thread(upgrade, SPEC, url, previous)
    assert not await running.check_readiness()
    assert await health.status(running.port, SPEC.grpc_service) == health.NOT_SERVING


async def test_health_turns_serving_once_the_migrations_reach_head(
    unmigrated: tuple[str, RunningServer],
) -> None:
    url, running = unmigrated
    await asyncio.to_thread(upgrade, SPEC, url)
    await health.wait_for(running.port, SPEC.grpc_service, health.SERVING)
    assert await health.status(running.port, "") == health.SERVING


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    with EmbeddedPostgres(tmp_path / "postgres", durable=False) as postgres:
        yield postgres


async def test_health_flips_to_not_serving_while_postgres_is_down_and_back_when_it_returns(
    own_postgres: EmbeddedPostgres, redis_url: str
) -> None:
    url = await provisioned(own_postgres.url)
    await asyncio.to_thread(upgrade, SPEC, url)
    running = await serve_users(url, redis_url)
    try:
        await health.wait_for(running.port, SPEC.grpc_service, health.SERVING)
        await asyncio.to_thread(own_postgres.stop)
        await health.wait_for(running.port, SPEC.grpc_service, health.NOT_SERVING)
        await asyncio.to_thread(own_postgres.start)
        await health.wait_for(running.port, SPEC.grpc_service, health.SERVING)
    finally:
        await running.stop(0)


async def test_liveness_stays_serving_while_the_service_is_not_ready(
    unmigrated: tuple[str, RunningServer],
) -> None:
    _, running = unmigrated
    assert not await running.check_readiness()
    assert await health.status(running.port, LIVENESS) == health.SERVING
