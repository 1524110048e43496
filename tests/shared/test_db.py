"""The shared database engine against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from shared import metrics
from shared.db import Database, async_url


@pytest.fixture
async def database(pg_admin_url: str) -> AsyncIterator[Database]:
    db = Database(pg_admin_url, pool_size=2, max_overflow=1, slow_query_ms=0)
    yield db
    await db.dispose()


def test_any_postgres_url_is_pointed_at_psycopg() -> None:
    assert async_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert async_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"


async def test_statements_over_the_threshold_are_counted_as_slow(database: Database) -> None:
    before = metrics.SLOW_QUERIES._value.get()
    await database.ping()
    assert metrics.SLOW_QUERIES._value.get() > before


async def test_pool_statistics_show_connections_in_use(database: Database) -> None:
    async with database.connection():
        assert database.pool_stats().in_use == 1
    assert database.pool_stats().in_use == 0
    assert database.pool_stats().idle == 1


async def test_reads_run_outside_a_transaction(database: Database) -> None:
    async with database.connection() as conn:
        raw = await conn.get_raw_connection()
        assert raw.driver_connection.autocommit is True
    async with database.transaction() as conn:
        raw = await conn.get_raw_connection()
        assert raw.driver_connection.autocommit is False


async def test_a_failed_transaction_leaves_nothing_behind(database: Database) -> None:
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS db_probe (n int)"))
    with pytest.raises(RuntimeError):
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO db_probe VALUES (1)"))
            raise RuntimeError("abort")
    async with database.connection() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM db_probe")) == 0
