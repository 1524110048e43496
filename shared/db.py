"""The async SQLAlchemy engine on psycopg 3: a bounded pool, slow-query logging, pool metrics
(connections in use, idle and in overflow, and checkouts that had to wait).

Hot paths use SQLAlchemy Core on one connection per request; the pool does not
pre-ping on checkout (it recycles old connections instead), which saves a round
trip on every request.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

from shared import metrics
from shared.logs import get_logger

log = get_logger("daira.db")


def is_outage(exc: BaseException) -> bool:
    """The database could not be reached, or no connection came free in time: a failure of
    the moment, not of the work that met it (callers may retry)."""
    return isinstance(exc, PoolTimeout | OSError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


@dataclass(frozen=True)
class PoolStats:
    size: int
    in_use: int
    idle: int
    overflow: int


def async_url(url: str) -> str:
    """Any postgres URL, pointed at the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("expected a postgresql:// URL")


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        pool_timeout: float = 5.0,
        pool_recycle: int = 1800,
        slow_query_ms: float = 200.0,
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
            pool_pre_ping=False,
        )
        # Reads run in autocommit: one round trip per statement instead of BEGIN/…/ROLLBACK.
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._slow_seconds = slow_query_ms / 1000.0
        self._max_overflow = max_overflow
        pool = self.engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        self._pool = pool
        sync = self.engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before_execute)
        event.listen(sync, "after_cursor_execute", self._after_execute)
        for state in ("in_use", "idle", "overflow"):
            metrics.POOL_CONNECTIONS.labels(state).set_function(self._stat_reader(state))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One connection in one transaction: commit on success, roll back on error."""
        self._count_wait()
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """One connection for reads, each statement on its own (autocommit)."""
        self._count_wait()
        async with self._reader.connect() as conn:
            yield conn

    def _count_wait(self) -> None:
        """A checkout about to queue for a connection: the pool is too small for the load."""
        if self._pool.checkedin() == 0 and self._pool.overflow() >= self._max_overflow:
            metrics.POOL_WAITS.inc()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def pool_stats(self) -> PoolStats:
        pool = self._pool
        return PoolStats(
            size=pool.size(),
            in_use=pool.checkedout(),
            idle=pool.checkedin(),
            overflow=max(pool.overflow(), 0),
        )

    def _stat_reader(self, state: str) -> Callable[[], float]:
        return lambda: float(getattr(self.pool_stats(), state))

    async def dispose(self) -> None:
        await self.engine.dispose()

    @staticmethod
    def _before_execute(conn: Any, *_: Any) -> None:
        conn.info["daira_query_start"] = time.perf_counter()

    def _after_execute(
        self, conn: Any, _cursor: Any, statement: str, _params: Any, *_: Any
    ) -> None:
        elapsed = time.perf_counter() - conn.info.pop("daira_query_start", time.perf_counter())
        if elapsed >= self._slow_seconds:
            metrics.SLOW_QUERIES.inc()
            log.warning("slow query", ms=round(elapsed * 1000, 1), statement=statement[:500])
