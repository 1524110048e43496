"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
