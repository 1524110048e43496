"""The outbox and its relay against real PostgreSQL and Redis: what is published, in what
order, and what a crash or a second relay changes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from google.protobuf import wrappers_pb2
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import metrics
from shared.db import Database
from shared.outbox import record, record_all
from shared.relay import Relay
from tests.shared.eventing import (
    FAST_RELAY,
    consumer,
    db,
    effects,
    eventually,
    published,
    redis,
    running,
    scratch_database,
    start,
    stream,
    value,
)

__all__ = ["db", "redis", "running", "stream"]


@pytest.fixture(scope="module")
async def module_db(pg_admin_url: str, worker_id: str) -> AsyncIterator[Database]:
    database = await scratch_database(pg_admin_url, f"daira_outbox_test_{worker_id}")
    yield database
    await database.dispose()


async def bump(conn: AsyncConnection, stream: str, aggregate: str) -> int:
    """A change of an aggregate and its event, as a service makes them: the UPDATE locks
    the aggregate's row, then the event is recorded."""
    new = await conn.scalar(
        text(
            "INSERT INTO aggregates VALUES (:id, 1) ON CONFLICT (id) "
            "DO UPDATE SET value = aggregates.value + 1 RETURNING value"
        ),
        {"id": aggregate},
    )
    await record(
        conn, stream, "test.aggregate.bumped", aggregate, wrappers_pb2.Int64Value(value=new)
    )
    return int(new)


async def test_an_event_recorded_in_a_rolled_back_transaction_is_never_published(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await bump(conn, stream, "rolled-back")
            raise RuntimeError("the change fails")
    async with db.transaction() as conn:
        await bump(conn, stream, "committed")
    start(running, Relay(db, redis, "outbox-test", **FAST_RELAY))
    await eventually(lambda: published_count(redis, stream, 1))
    await asyncio.sleep(0.05)
    assert [e.aggregate_id for e in await published(redis, stream)] == ["committed"]


async def published_count(redis: Redis, stream: str, n: int) -> bool:
    return await redis.xlen(stream) >= n


async def test_events_of_one_aggregate_are_published_in_commit_order(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    async def change() -> None:
        async with db.transaction() as conn:
            await bump(conn, stream, "hot")
            # Hold the transaction open so later ones queue on the row and commit after it.
            await asyncio.sleep(random.uniform(0, 0.01))

    start(running, Relay(db, redis, "outbox-test", **FAST_RELAY))
    await asyncio.gather(*(change() for _ in range(40)))
    await eventually(lambda: published_count(redis, stream, 40))
    assert [value(e) for e in await published(redis, stream)] == list(range(1, 41))


async def test_events_recorded_together_are_published_in_the_order_given(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    items = [(f"aggregate-{n}", wrappers_pb2.Int64Value(value=n)) for n in range(1, 6)]
    async with db.transaction() as conn:
        recorded = await record_all(conn, stream, "test.aggregate.bumped", items)
    start(running, Relay(db, redis, "outbox-test", **FAST_RELAY))
    await eventually(lambda: published_count(redis, stream, 5))
    events = await published(redis, stream)
    assert [e.id for e in events] == [e.id for e in recorded]
    assert [(e.aggregate_id, value(e)) for e in events] == [
        (f"aggregate-{n}", n) for n in range(1, 6)
    ]


async def test_an_idle_relay_is_woken_by_the_commit_that_records_an_event(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    relay = start(running, Relay(db, redis, "outbox-test", **{**FAST_RELAY, "idle_seconds": 3}))
    await eventually(lambda: leading(relay))
    await asyncio.sleep(0.2)  # it has looked once, found nothing, and sleeps

    async with db.transaction() as conn:
        await bump(conn, stream, "woken")

    await eventually(lambda: published_count(redis, stream, 1), within=1.5)


async def leading(relay: Relay) -> bool:
    return relay.leading


class CrashAfterPublishing(Relay):
    """A relay that dies once right after its XADDs, before marking them published."""

    crashes = 1

    async def _mark(self, conn: AsyncConnection, positions: list[int]) -> None:
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("killed between publishing and marking")
        await super()._mark(conn, positions)


async def test_a_relay_killed_between_publishing_and_marking_republishes_effects_happen_once(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    for n in range(3):
        async with db.transaction() as conn:
            await bump(conn, stream, f"agg-{n}")
    relay = start(running, CrashAfterPublishing(db, redis, "outbox-test", **FAST_RELAY))
    await eventually(lambda: published_count(redis, stream, 6))
    assert relay.crashes == 0
    ids = [e.id for e in await published(redis, stream)]
    assert ids[:3] == ids[3:6]  # the whole batch again: duplicated, none lost
    start(running, consumer(db, redis, stream))

    async def all_handled() -> bool:
        return len(await effects(db)) == 3

    await eventually(all_handled)
    await asyncio.sleep(0.1)  # the duplicates have been read by now, and skipped
    assert sorted(e[0] for e in await effects(db)) == sorted(ids[:3])


async def test_a_second_relay_publishes_nothing_while_the_first_holds_the_lock(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    first = start(running, Relay(db, redis, "outbox-test", **FAST_RELAY))
    await eventually(lambda: leading(first))
    second = start(running, Relay(db, redis, "outbox-test", **FAST_RELAY))
    for n in range(20):
        async with db.transaction() as conn:
            await bump(conn, stream, f"agg-{n % 3}")
    await eventually(lambda: published_count(redis, stream, 20))
    await asyncio.sleep(0.1)
    assert not second.leading
    assert await redis.xlen(stream) == 20
    await first.close()
    await eventually(lambda: leading(second))


async def test_the_relay_reports_its_backlog_and_publish_lag(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    lag = metrics.OUTBOX_PUBLISH_LAG.labels("outbox-metrics")
    before = lag._sum.get()
    metrics.OUTBOX_BACKLOG.labels("outbox-metrics").set(-1)
    async with db.transaction() as conn:
        await bump(conn, stream, "measured")
    await asyncio.sleep(0.05)
    start(running, Relay(db, redis, "outbox-metrics", **FAST_RELAY))

    async def reported() -> bool:
        return metrics.OUTBOX_BACKLOG.labels("outbox-metrics")._value.get() == 0

    await eventually(reported)
    assert lag._sum.get() - before >= 0.05
