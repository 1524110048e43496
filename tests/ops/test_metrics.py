"""Metrics an operator reads: RPC latency by method and status code, waits for a pool
connection."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from prometheus_client import REGISTRY

from shared.db import Database
from tests.shared.eventing import eventually
from tests.shared.test_pipeline import call, channel

__all__ = ["channel"]  # the pipeline's test server, registered here by being imported


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return value or 0.0


async def test_rpc_latency_is_observed_by_method_and_status_code(
    channel: grpc.aio.Channel,
) -> None:
    labels = {"service": "test", "method": "Missing", "code": "NOT_FOUND"}
    before = sample("daira_rpc_latency_seconds_count", **labels)
    with pytest.raises(grpc.aio.AioRpcError):
        await call(channel, "Missing")

    async def observed() -> bool:  # the server's task may record it after the client hears
        return sample("daira_rpc_latency_seconds_count", **labels) == before + 1

    await eventually(observed)


async def test_a_checkout_that_finds_the_pool_exhausted_is_counted_as_a_wait(
    pg_admin_url: str,
) -> None:
    db = Database(pg_admin_url, pool_size=1, max_overflow=0, pool_timeout=30)
    before = sample("daira_db_pool_waits_total")

    async def second_reader() -> None:
        async with db.connection():
            pass

    try:
        async with db.connection():
            waiting = asyncio.create_task(second_reader())
            await asyncio.sleep(0.1)
            assert not waiting.done()
        await waiting
    finally:
        await db.dispose()
    assert sample("daira_db_pool_waits_total") == before + 1
