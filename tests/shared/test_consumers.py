"""Consumers against real PostgreSQL and Redis: duplicates skipped, failures retried then
dead-lettered and replayed, a dead consumer's work taken over, lag reported."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.protobuf import wrappers_pb2
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from daira.events.v1 import events_pb2
from shared import metrics
from shared.db import Database
from shared.deadletters import list_dead, replay_dead
from shared.eventing import of_types
from shared.outbox import envelope
from tests.shared.eventing import (
    consumer,
    db,
    effects,
    eventually,
    record_effect,
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
    database = await scratch_database(pg_admin_url, f"daira_consumers_test_{worker_id}")
    yield database
    await database.dispose()


async def publish(redis: Redis, stream: str, n: int, aggregate: str = "agg") -> events_pb2.Event:
    """An event as the relay publishes it."""
    event = envelope(
        "test.aggregate.bumped", aggregate, wrappers_pb2.Int64Value(value=n), request_id="r"
    )
    await redis.xadd(stream, {"event": event.SerializeToString()})
    return event


def effect_count(db: Database, n: int) -> Any:
    async def reached() -> bool:
        return len(await effects(db)) >= n

    return reached


async def test_a_redelivered_event_has_its_effect_once(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    event = await publish(redis, stream, 1)
    await redis.xadd(stream, {"event": event.SerializeToString()})
    await publish(redis, stream, 2)
    start(running, consumer(db, redis, stream))
    await eventually(effect_count(db, 2))

    async def all_acknowledged() -> bool:
        return (await redis.xpending(stream, "effects"))["pending"] == 0

    await eventually(all_acknowledged)
    assert [v for _, _, v in await effects(db)] == [1, 2]


async def test_an_event_the_handler_has_nothing_to_do_with_is_acknowledged_unrecorded(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    await publish(redis, stream, 1)  # test.aggregate.bumped: not among the types
    wanted = envelope(
        "test.aggregate.wanted", "agg", wrappers_pb2.Int64Value(value=2), request_id="r"
    )
    await redis.xadd(stream, {"event": wanted.SerializeToString()})
    start(running, consumer(db, redis, stream, acts_on=of_types("test.aggregate.wanted")))
    await eventually(effect_count(db, 1))

    async def all_acknowledged() -> bool:
        return (await redis.xpending(stream, "effects"))["pending"] == 0

    await eventually(all_acknowledged)
    assert [v for _, _, v in await effects(db)] == [2]
    async with db.connection() as conn:
        recorded = await conn.scalar(text("SELECT count(*) FROM processed_events"))
    assert recorded == 1


async def test_a_repeatable_handler_runs_on_every_delivery_and_records_nothing(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    event = await publish(redis, stream, 1)
    await redis.xadd(stream, {"event": event.SerializeToString()})
    start(running, consumer(db, redis, stream, repeatable=True))
    await eventually(effect_count(db, 2))

    async def all_acknowledged() -> bool:
        return (await redis.xpending(stream, "effects"))["pending"] == 0

    await eventually(all_acknowledged)
    assert [v for _, _, v in await effects(db)] == [1, 1]
    async with db.connection() as conn:
        recorded = await conn.scalar(text("SELECT count(*) FROM processed_events"))
    assert recorded == 0


class Flaky:
    """A handler that fails on value 13 until it is fixed."""

    def __init__(self) -> None:
        self.fixed = False
        self.attempts = 0

    async def __call__(self, conn: AsyncConnection, event: events_pb2.Event) -> None:
        await record_effect(conn, event)  # rolled back with the failure
        if wrappers_pb2.Int64Value.FromString(event.payload.value).value == 13 and not self.fixed:
            self.attempts += 1
            raise ValueError("cannot handle 13")


async def test_a_poison_event_is_retried_then_dead_lettered_and_replays_once_fixed(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    handler = Flaky()
    dead_before = metrics.DEAD_LETTERS.labels(stream, "effects")._value.get()
    poison = await publish(redis, stream, 13)
    await publish(redis, stream, 14)
    start(running, consumer(db, redis, stream, handler, max_attempts=3))

    async def buried() -> bool:
        return bool(await list_dead(redis, stream))

    await eventually(buried)
    [letter] = await list_dead(redis, stream)
    # The handler ran once more than the attempts: first beside 14, read with it, then alone.
    assert (letter.group, letter.attempts, handler.attempts) == ("effects", 3, 4)
    assert letter.event is not None and letter.event.id == poison.id
    assert "cannot handle 13" in letter.error
    assert metrics.DEAD_LETTERS.labels(stream, "effects")._value.get() == dead_before + 1
    assert [v for _, _, v in await effects(db)] == [14]  # the next event was not held up
    handler.fixed = True
    assert await replay_dead(redis, stream, [letter.entry_id]) == 1
    await eventually(effect_count(db, 2))
    assert [v for _, _, v in await effects(db)] == [14, 13]
    assert await list_dead(redis, stream) == []


async def test_an_entry_that_is_not_an_event_is_dead_lettered_at_once(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    await redis.xadd(stream, {"event": b"\xff not a protobuf"})
    start(running, consumer(db, redis, stream))

    async def buried() -> bool:
        return bool(await list_dead(redis, stream))

    await eventually(buried)
    [letter] = await list_dead(redis, stream)
    assert letter.attempts == 1 and letter.event is None


class DuringOutages:
    """A handler whose first `count` calls find the database connection lost."""

    def __init__(self, count: int) -> None:
        self.left = count

    async def __call__(self, conn: AsyncConnection, event: events_pb2.Event) -> None:
        if self.left:
            self.left -= 1
            raise DBAPIError(
                "SELECT 1", None, OSError("server closed"), connection_invalidated=True
            )
        await record_effect(conn, event)


async def test_a_lost_database_connection_does_not_count_as_an_attempt(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    await publish(redis, stream, 7)
    start(running, consumer(db, redis, stream, DuringOutages(3), max_attempts=1))
    await eventually(effect_count(db, 1))
    assert await list_dead(redis, stream) == []


async def test_a_dead_consumers_pending_entries_are_taken_over_by_a_live_one(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    await redis.xgroup_create(stream, "effects", id="0", mkstream=True)
    for n in range(3):
        await publish(redis, stream, n)
    # A consumer reads them, then dies before handling any.
    await redis.xreadgroup("effects", "dead-consumer", {stream: ">"}, count=10)
    live = start(running, consumer(db, redis, stream, name="live-consumer"))
    await eventually(effect_count(db, 3), within=5)
    assert sorted(v for _, _, v in await effects(db)) == [0, 1, 2]
    consumers = await redis.xinfo_consumers(stream, "effects")
    pending = {c["name"].decode(): c["pending"] for c in consumers}
    assert pending == {"dead-consumer": 0, live.name: 0}


async def test_the_consumer_reports_its_lag_and_pending_entries(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    failures = 1

    async def fails_once(conn: AsyncConnection, event: events_pb2.Event) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise ValueError("not yet")
        await record_effect(conn, event)

    await publish(redis, stream, 1)
    await asyncio.sleep(0.1)
    slow_retry = {"backoff_seconds": 0.3, "backoff_max_seconds": 0.3, "claim_idle_seconds": 1}
    start(running, consumer(db, redis, stream, fails_once, **slow_retry))
    lag = metrics.CONSUMER_LAG.labels(stream, "effects")
    pending = metrics.CONSUMER_PENDING.labels(stream, "effects")

    async def behind() -> bool:  # the failed event waits for its retry
        return lag._value.get() >= 0.1 and pending._value.get() == 1

    await eventually(behind)

    async def caught_up() -> bool:
        return lag._value.get() == 0 and pending._value.get() == 0

    await eventually(caught_up)
    assert len(await effects(db)) == 1


async def test_events_read_together_are_handled_in_one_transaction(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    transactions: list[int] = []

    async def noting_its_transaction(conn: AsyncConnection, event: events_pb2.Event) -> None:
        transactions.append(await conn.scalar(text("SELECT txid_current()")))
        await record_effect(conn, event)

    for n in range(3):
        await publish(redis, stream, n)
    start(running, consumer(db, redis, stream, noting_its_transaction))
    await eventually(effect_count(db, 3))

    assert [v for _, _, v in await effects(db)] == [0, 1, 2]
    assert len(set(transactions)) == 1


async def test_a_failing_event_read_with_others_fails_alone(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    for n in (1, 13, 2):
        await publish(redis, stream, n)
    start(running, consumer(db, redis, stream, Flaky(), max_attempts=1))

    async def buried() -> bool:
        return bool(await list_dead(redis, stream))

    await eventually(buried)
    await eventually(effect_count(db, 2))
    assert [v for _, _, v in await effects(db)] == [1, 2]
    [letter] = await list_dead(redis, stream)
    assert letter.event is not None and value(letter.event) == 13


async def test_an_outage_while_events_read_together_are_handled_costs_none_an_attempt(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    for n in range(3):
        await publish(redis, stream, n)
    start(running, consumer(db, redis, stream, DuringOutages(1), max_attempts=1))
    await eventually(effect_count(db, 3))

    assert sorted(v for _, _, v in await effects(db)) == [0, 1, 2]
    assert await list_dead(redis, stream) == []


async def test_a_batch_handler_gets_the_new_events_of_one_read_at_once(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    batches: list[list[int]] = []

    async def together(conn: AsyncConnection, events: list[events_pb2.Event]) -> None:
        batches.append([value(event) for event in events])
        for event in events:
            await record_effect(conn, event)

    first = await publish(redis, stream, 1)
    await redis.xadd(stream, {"event": first.SerializeToString()})
    await publish(redis, stream, 2)
    start(running, consumer(db, redis, stream, handle_together=together))
    await eventually(effect_count(db, 2))

    assert batches == [[1, 2]]


class FailsThenMeetsAnOutage:
    """A handler that fails each event's first call, meets a lost connection on the first
    retry, and handles every call after that."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.outages = DuringOutages(1)

    async def __call__(self, conn: AsyncConnection, event: events_pb2.Event) -> None:
        if event.id not in self.seen:
            self.seen.add(event.id)
            raise ValueError("not yet")
        await self.outages(conn, event)


async def test_an_outage_costs_the_entries_delivered_after_it_no_attempt(
    db: Database, redis: Redis, stream: str, running: list
) -> None:
    for n in range(2):
        await publish(redis, stream, n)
    start(running, consumer(db, redis, stream, FailsThenMeetsAnOutage(), max_attempts=2))
    await eventually(effect_count(db, 2))

    assert sorted(v for _, _, v in await effects(db)) == [0, 1]
    assert await list_dead(redis, stream) == []
