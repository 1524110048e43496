"""Pieces every service's integration harness needs, whatever the service.

A service under test gets a database and role of its own, migrated to head, and runs
in-process on a random port; `start_serving` returns once its health check says
SERVING, so the first call of a test never races the readiness probe.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from redis.asyncio import Redis
from sqlalchemy.dialects import postgresql

from daira.events.v1 import events_pb2
from shared.config import ServiceSettings
from shared.deadletters import DeadLetter, list_dead
from shared.migrate import upgrade
from shared.outbox import stream_name
from shared.provision import provision_service_database
from shared.server import Build, RunningServer, start
from shared.service import ServiceSpec

SERVING_TIMEOUT_SECONDS = 30.0
# Every service under test signs and verifies tokens with this one secret.
SECRET = "users-integration-tests-secret-0123456789"  # 40 characters
# The event streams of this pytest process: workers and runs sharing one Redis keep apart.
EVENTS_PREFIX = f"daira-test-{uuid.uuid4().hex[:12]}"

T = TypeVar("T")


def service_settings(database_url: str, redis_url: str) -> dict[str, Any]:
    """What every service under test is started with: its stores, a random port, the
    tests' secret, this process's event streams, and event loops quick enough for tests
    to wait on (a failed event is retried within a second, not thirty)."""
    return {
        "database_url": database_url,
        "redis_url": redis_url,
        "host": "127.0.0.1",
        "port": 0,
        "auth_secret": SECRET,
        "events_stream_prefix": EVENTS_PREFIX,
        "events_poll_seconds": 0.01,
        "events_block_seconds": 0.05,
        "events_backoff_seconds": 0.05,
        "events_backoff_max_seconds": 0.4,
        "events_claim_idle_seconds": 2.0,
    }


async def published(
    redis_url: str, family: str, aggregate_id: str, *, wait_seconds: float = 10.0
) -> list[events_pb2.Event]:
    """The events of `aggregate_id` in this process's stream of `family`, once at least one
    has been published (the relay publishes shortly after the change commits)."""
    stream = stream_name(EVENTS_PREFIX, family)
    deadline = time.monotonic() + wait_seconds
    async with Redis.from_url(redis_url) as redis:
        while True:
            entries = await redis.xrange(stream)
            found = [
                event
                for event in (events_pb2.Event.FromString(f[b"event"]) for _, f in entries)
                if event.aggregate_id == aggregate_id
            ]
            if found or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.02)


async def publish(
    redis_url: str, family: str, event: events_pb2.Event, *, prefix: str = EVENTS_PREFIX
) -> None:
    """Put `event` on this process's stream of `family` (or that of services started with
    another `events_stream_prefix`), as a relay would."""
    async with Redis.from_url(redis_url) as redis:
        await redis.xadd(stream_name(prefix, family), {"event": event.SerializeToString()})


async def settled(
    read: Callable[[], Awaitable[T]], expected: T, *, wait_seconds: float = 10.0
) -> T:
    """What `read()` answers once it is `expected`, or its last answer after `wait_seconds`:
    for effects that follow an event, without guessing how long handling takes."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = await read()
        if found == expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def dead_letter(
    redis_url: str,
    family: str,
    event_id: str,
    *,
    wait_seconds: float = 10.0,
    prefix: str = EVENTS_PREFIX,
    group: str | None = None,
) -> DeadLetter | None:
    """The dead letter of event `event_id` in this process's `family` (or that of services
    started with another `events_stream_prefix`), of `group` if given, once it is there."""
    stream = stream_name(prefix, family)
    deadline = time.monotonic() + wait_seconds
    async with Redis.from_url(redis_url) as redis:
        while True:
            for letter in await list_dead(redis, stream, count=10_000):
                event = letter.event
                if event is not None and event.id == event_id and group in (None, letter.group):
                    return letter
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.05)


async def provision_and_migrate(
    pg_admin_url: str, spec: ServiceSpec, database: str, password: str
) -> str:
    """Create `database` and its role for `spec`'s service, migrate it; the service's URL."""
    url = await asyncio.to_thread(provision_service_database, pg_admin_url, database, password)
    await asyncio.to_thread(upgrade, spec, url)
    return url


async def wait_until_serving(port: int, grpc_service: str) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + SERVING_TIMEOUT_SECONDS
        while True:
            request = health_pb2.HealthCheckRequest(service=grpc_service)
            try:
                reply = await health.Check(request, timeout=1.0)
            except grpc.aio.AioRpcError as err:
                # A server in another process may not listen yet.
                if err.code() not in (
                    grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                ):
                    raise
            else:
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{grpc_service} did not become SERVING")
            await asyncio.sleep(0.05)


async def start_serving(
    spec: ServiceSpec, settings: ServiceSettings, build: Build
) -> RunningServer:
    """Start `spec`'s service in-process and wait until its health check says SERVING."""
    running = await start(spec, settings, build, access_log=False)
    try:
        await wait_until_serving(running.port, spec.grpc_service)
    except BaseException:
        await running.stop(0)
        raise
    return running


def plan(conn: psycopg.Connection[Any], statement: Any, **params: Any) -> str:
    """EXPLAIN a SQLAlchemy statement exactly as the service sends it, with its parameters
    (`params` fills bind parameters the statement leaves open, such as an `ids` array)."""
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())
    expanded = compiled.construct_expanded_state(params)
    rows = conn.execute(f"EXPLAIN {expanded.statement}", expanded.parameters).fetchall()
    return "\n".join(row[0] for row in rows)


@contextmanager
def seeded_database(
    pg_admin_url: str,
    spec: ServiceSpec,
    database: str,
    password: str,
    *,
    filled: str,
    fill: Callable[[psycopg.Connection[Any]], None],
) -> Iterator[psycopg.Connection[Any]]:
    """A migrated database of its own for query-plan tests, filled once for every pytest
    worker (seeding costs seconds of both cores): the first worker runs `fill` under an
    advisory lock unless the query `filled` says it is done, the others wait and reuse it."""
    url = provision_service_database(pg_admin_url, database, password)
    upgrade(spec, url)
    lock_key = int.from_bytes(hashlib.blake2b(database.encode(), digest_size=8).digest(), "big")
    lock_key -= 1 << 63  # a signed bigint
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [lock_key])
        try:
            (done,) = conn.execute(filled).fetchone() or (False,)
            if not done:
                started = time.monotonic()
                fill(conn)
                # As autovacuum would: visibility maps let index-only scans skip the heap.
                conn.execute("VACUUM")
                print(f"\nseeded {database} in {time.monotonic() - started:.1f} s")
            conn.execute("ANALYZE")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [lock_key])
        yield conn
