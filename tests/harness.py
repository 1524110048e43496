"""Pieces every service's integration harness needs, whatever the service.

A service under test gets a database and role of its own, migrated to head, and runs
in-process on a random port; `start_serving` returns once its health check says
SERVING, so the first call of a test never races the readiness probe.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.dialects import postgresql

from shared.config import ServiceSettings
from shared.migrate import upgrade
from shared.provision import provision_service_database
from shared.server import Build, RunningServer, start
from shared.service import ServiceSpec

SERVING_TIMEOUT_SECONDS = 30.0


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
    compiled = statement.compile(
        dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True}
    )
    rows = conn.execute(f"EXPLAIN {compiled}", compiled.construct_params(params)).fetchall()
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
