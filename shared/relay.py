"""The relay: publishes a service's outbox to Redis streams, then marks what it published.

Publish, then mark: a relay that dies between the two publishes those events again when
it (or another) next runs, so an event may be delivered twice but is never lost; consumers
deduplicate on the event id (`shared.consumers`).

One relay per database publishes at a time: it holds a session advisory lock on the
connection it reads and marks with, and the others wait on standby until that session
ends. The lock saves duplicates, not order. Each batch is every unpublished row in position
order (no cursor to skip a transaction that committed late), its XADDs are pipelined on
one Redis connection in that order, and a row is marked only after its XADD and those of
every row before it succeeded. So the first delivery of each event of an aggregate follows
its position, which is commit order (see `shared.outbox`), even across a crash and a
takeover; re-deliveries of already-delivered events may come after later ones.

Between batches the relay sleeps until a commit that recorded events notifies it (the
outbox's trigger, `shared.outbox.NOTIFY_CHANNEL`), or for `idle_seconds` at most, so an
idle service does not poll its outbox; after a wake it waits `poll_seconds` first, so the
commits of a busy moment go out in one batch instead of one batch each.

Streams are trimmed to about `max_stream_length` entries, which bounds Redis memory; a
consumer group further behind than that loses the oldest entries, and its lag gauge
(`daira_events_consumer_lag_seconds`) is what warns of it. Published rows are kept
`retention_seconds` for inspection, then deleted.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import timedelta
from typing import Any

import psycopg
from redis.asyncio import Redis
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import metrics
from shared.background import BackgroundLoop, Every
from shared.db import Database
from shared.logs import get_logger
from shared.outbox import NOTIFY_CHANNEL, outbox, stream_name

log = get_logger("daira.relay")

# Each service has its own database, so one constant key admits one relay per service.
_RELAY_LOCK_KEY = 0x6F7574626F78
_BACKLOG_CAP = 10_000
_PRUNE_BATCH = 10_000


class Relay(BackgroundLoop):
    def __init__(
        self,
        db: Database,
        redis: Redis,
        service: str,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.1,
        idle_seconds: float = 0.5,
        retry_seconds: float = 1.0,
        max_stream_length: int = 1_000_000,
        retention_seconds: float = 3600.0,
        prune_seconds: float = 60.0,
        count_seconds: float = 1.0,
        stop_seconds: float = 5.0,
        stream_prefix: str = "",
    ) -> None:
        """`stream_prefix`: put before each row's stream family to name its Redis stream
        (`shared.outbox.stream_name`)."""
        super().__init__(stop_seconds)
        self._prefix = stream_prefix
        self._db = db
        self._redis = redis
        self._service = service
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._idle_seconds = idle_seconds
        self._retry_seconds = retry_seconds
        self._max_stream_length = max_stream_length
        self._retention_seconds = retention_seconds
        self._pruning = Every(prune_seconds)
        self._counting = Every(count_seconds)
        self.leading = False

    async def _run(self) -> None:
        while not self.stopping:
            try:
                await self._lead()
            except Exception as exc:
                log.warning("outbox relay interrupted; retrying", error=repr(exc))
            await self.pause(self._retry_seconds)

    async def _lead(self) -> None:
        """Publish for as long as this relay holds the lock; return at once if another does."""
        async with self._db.connection() as conn:
            locked = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _RELAY_LOCK_KEY}
            )
            if not locked:
                return
            self.leading = True
            try:
                await conn.execute(text(f"LISTEN {NOTIFY_CHANNEL}"))
                listener = (await conn.get_raw_connection()).driver_connection
                assert isinstance(listener, psycopg.AsyncConnection)
                while not self.stopping:
                    published = await self._publish_batch(conn)
                    await self._housekeep(conn)
                    if published < self._batch_size:
                        await self._until_recorded(listener)
            finally:
                self.leading = False
                # Closing the session (rather than pooling it) is what surely frees the lock.
                with contextlib.suppress(Exception):
                    await conn.invalidate()

    async def _until_recorded(self, listener: psycopg.AsyncConnection[Any]) -> None:
        """Until a commit records events (told at once if one did since the last wait),
        or idle_seconds pass; then poll_seconds more, for what commits meanwhile."""
        async for _ in listener.notifies(timeout=self._idle_seconds, stop_after=1):
            pass
        await self.pause(self._poll_seconds)

    async def _publish_batch(self, conn: AsyncConnection) -> int:
        rows = (
            await conn.execute(
                select(outbox.c.position, outbox.c.stream, outbox.c.envelope)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.position)
                .limit(self._batch_size)
            )
        ).all()
        if not rows:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for row in rows:
                pipe.xadd(
                    stream_name(self._prefix, row.stream),
                    {"event": row.envelope},
                    maxlen=self._max_stream_length,
                    approximate=True,
                )
            results = await pipe.execute(raise_on_error=False)
        added = sum(1 for _ in itertools.takewhile(lambda r: not isinstance(r, Exception), results))
        if added:
            await self._mark(conn, [row.position for row in rows[:added]])
        if added < len(rows):
            raise results[added]
        return len(rows)

    async def _mark(self, conn: AsyncConnection, positions: list[int]) -> None:
        lags = await conn.scalars(
            update(outbox)
            .where(outbox.c.position.in_(positions))
            .values(published_at=func.clock_timestamp())
            .returning(func.extract("epoch", outbox.c.published_at - outbox.c.created_at))
        )
        histogram = metrics.OUTBOX_PUBLISH_LAG.labels(self._service)
        for lag in lags:
            histogram.observe(float(lag))

    async def _housekeep(self, conn: AsyncConnection) -> None:
        """The backlog counted at most every count_seconds (a busy relay publishes many
        batches a second, and counting after each cost as much as marking it), old rows
        pruned every prune_seconds."""
        if self._counting.due():
            unpublished = (
                select(outbox.c.position)
                .where(outbox.c.published_at.is_(None))
                .limit(_BACKLOG_CAP)
                .subquery()
            )
            backlog = await conn.scalar(select(func.count()).select_from(unpublished))
            metrics.OUTBOX_BACKLOG.labels(self._service).set(backlog or 0)
        if not self._pruning.due():
            return
        # Old rows have the lowest positions, so this walks the primary key a short way.
        expired = (
            select(outbox.c.position)
            .where(
                outbox.c.published_at
                < func.clock_timestamp() - timedelta(seconds=self._retention_seconds)
            )
            .order_by(outbox.c.position)
            .limit(_PRUNE_BATCH)
        )
        await conn.execute(delete(outbox).where(outbox.c.position.in_(expired)))
