"""SIGTERM drains: a loaded service finishes every call it has begun, then exits 0."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import grpc

from daira.users.v1 import users_pb2, users_pb2_grpc
from services.users import SPEC
from tests import harness
from tests.ops.processes import ServiceProcess

# Registrations hash a password with argon2id at the production cost, one hash per core
# at a time: this many keep the service busy for a good while after the signal.
CALLS = 48


def registration() -> users_pb2.RegisterRequest:
    name = "drain_" + uuid.uuid4().hex[:10]
    return users_pb2.RegisterRequest(
        username=name, email=f"{name}@example.com", password="drain-password-1"
    )


async def test_sigterm_lets_every_call_in_flight_finish_and_exits_zero(
    pg_admin_url: str, redis_url: str, tmp_path: Path
) -> None:
    url = await harness.provision_and_migrate(
        pg_admin_url, SPEC, "daira_users_drain", "drain-password"
    )
    service = ServiceProcess(
        SPEC,
        tmp_path,
        database_url=url,
        redis_url=redis_url,
        settings={"SHUTDOWN_GRACE_SECONDS": "60"},
    )
    await service.start()
    finished: list[float] = []

    async def register(stub: users_pb2_grpc.UserServiceStub) -> users_pb2.RegisterResponse:
        reply = await stub.Register(registration(), timeout=60)
        finished.append(time.monotonic())
        return reply

    try:
        async with grpc.aio.insecure_channel(service.address) as channel:
            stub = users_pb2_grpc.UserServiceStub(channel)
            await channel.channel_ready()
            calls = [asyncio.create_task(register(stub)) for _ in range(CALLS)]
            await asyncio.sleep(1.0)  # every call sent and begun, even on a loaded machine
            signalled = time.monotonic()
            code = await asyncio.to_thread(service.terminate)
            replies = await asyncio.gather(*calls)
    finally:
        service.kill()
    assert code == 0, service.log_tail()
    assert all(reply.user.id for reply in replies)
    assert max(finished) > signalled, "no call was still in flight at the signal"
