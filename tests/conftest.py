"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import uvloop

from tests import backends


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A superuser URL (postgresql://…) of a real PostgreSQL server for this session."""
    with backends.postgres_admin_url() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis://… URL of a real Redis server for this session."""
    with backends.redis_url() as url:
        yield url


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """The services' own loop (`shared.server.main` runs them on uvloop)."""
    return {"uvloop": uvloop.new_event_loop}
