"""Reading a server's gRPC health status, and waiting for it to become one."""

from __future__ import annotations

import asyncio
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
WAIT_SECONDS = 60.0


async def status(port: int, service: str) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = health_pb2.HealthCheckRequest(service=service)
        reply = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=5)
        return int(reply.status)


async def wait_for(port: int, service: str, wanted: int) -> None:
    """Until the server says `wanted` (a readiness probe flips it on its own schedule)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while await status(port, service) != wanted:
        if time.monotonic() > deadline:
            name = health_pb2.HealthCheckResponse.ServingStatus.Name(wanted)
            raise AssertionError(f"{service} did not become {name}")
        await asyncio.sleep(0.05)
