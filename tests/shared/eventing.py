"""What the outbox, relay and consumer tests share: a scratch database per test module with
the outbox, processed_events and an `effects` table (each effect a handler had), made by
the same migration helpers a service's Alembic migration calls; fast intervals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from google.protobuf import wrappers_pb2
from redis.asyncio import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncConnection

from daira.events.v1 import events_pb2
from shared.consumers import Consumer, Handler
from shared.db import Database
from shared.outbox import create_outbox_notify, create_outbox_table
from shared.processed_events import create_processed_events_table
from shared.provision import provision_service_database
from shared.relay import Relay

FAST_RELAY: dict[str, Any] = {"poll_seconds": 0.01, "retry_seconds": 0.05}
FAST_CONSUMER: dict[str, Any] = {
    "block_seconds": 0.02,
    "retry_seconds": 0.05,
    "backoff_seconds": 0.02,
    "backoff_max_seconds": 0.1,
    "claim_idle_seconds": 0.3,
}


def _create_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS outbox, processed_events, effects, aggregates"))
            with Operations.context(MigrationContext.configure(conn)):
                create_outbox_table()
                create_outbox_notify()
                create_processed_events_table()
            conn.execute(
                text(
                    "CREATE TABLE effects (n serial PRIMARY KEY, event_id uuid NOT NULL, "
                    "aggregate_id text NOT NULL, value bigint NOT NULL)"
                )
            )
            conn.execute(text("CREATE TABLE aggregates (id text PRIMARY KEY, value bigint)"))
    finally:
        engine.dispose()


async def scratch_database(pg_admin_url: str, name: str) -> Database:
    url = await asyncio.to_thread(provision_service_database, pg_admin_url, name, "events-test")
    await asyncio.to_thread(_create_schema, url)
    return Database(url, pool_size=12, max_overflow=0)


@pytest.fixture
async def db(module_db: Database) -> Database:
    """The module's database, emptied for this test (one relay per database at a time)."""
    async with module_db.transaction() as conn:
        await conn.execute(
            text("TRUNCATE outbox, processed_events, effects, aggregates RESTART IDENTITY")
        )
    return module_db


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def stream() -> str:
    return f"events-test:{uuid.uuid4().hex[:8]}"


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def value(event: events_pb2.Event) -> int:
    payload = wrappers_pb2.Int64Value()
    assert event.payload.Unpack(payload)
    return payload.value


async def record_effect(conn: AsyncConnection, event: events_pb2.Event) -> None:
    """A handler's effect, in the transaction the consumer gives it."""
    await conn.execute(
        text("INSERT INTO effects (event_id, aggregate_id, value) VALUES (:id, :agg, :value)"),
        {"id": event.id, "agg": event.aggregate_id, "value": value(event)},
    )


async def effects(db: Database) -> list[tuple[str, str, int]]:
    async with db.connection() as conn:
        rows = await conn.execute(
            text("SELECT event_id, aggregate_id, value FROM effects ORDER BY n")
        )
        return [(str(r.event_id), r.aggregate_id, r.value) for r in rows]


async def published(redis: Redis, stream: str) -> list[events_pb2.Event]:
    entries: Any = await redis.xrange(stream)
    return [events_pb2.Event.FromString(fields[b"event"]) for _, fields in entries]


@pytest.fixture
async def running() -> AsyncIterator[list[Relay | Consumer]]:
    """Relays and consumers a test starts, closed after it whatever happens."""
    started: list[Relay | Consumer] = []
    yield started
    for task in reversed(started):
        await task.close()


def start(running: list[Relay | Consumer], task: Relay | Consumer) -> Any:
    task.start()
    running.append(task)
    return task


def consumer(
    db: Database, redis: Redis, stream: str, handler: Handler = record_effect, **options: Any
) -> Consumer:
    return Consumer(db, redis, stream, "effects", handler, **{**FAST_CONSUMER, **options})
