"""`workers: 2` runs two processes of one service on one port, both answering calls,
stopped together by one SIGTERM, and gone by themselves once their parent is killed."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.service import free_ports_in_a_row
from services.users import SPEC
from tests import harness
from tests.ops.processes import ServiceProcess

WORKERS = 2
# New connections, each placed on a worker by the kernel: all on one would be a 1 in 2^39.
CONNECTIONS = 40
CHECKS = re.compile(r'^daira_rpc_requests_total\{[^}]*method="Check"[^}]*\}\s+([0-9.]+)$', re.M)


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return str(reply.read().decode())


async def wait_for_metrics(port: int) -> None:
    """A worker serves metrics once its gRPC server has bound the port."""
    deadline = time.monotonic() + harness.SERVING_TIMEOUT_SECONDS
    while True:
        try:
            await asyncio.to_thread(metrics, port)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def checks_served(metrics_port: int) -> float:
    return sum(float(value) for value in CHECKS.findall(metrics(metrics_port)))


@pytest.fixture
async def two_workers(
    pg_admin_url: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    url = await harness.provision_and_migrate(
        pg_admin_url, SPEC, "daira_users_workers", "workers-password"
    )
    base = free_ports_in_a_row(WORKERS)
    service = ServiceProcess(
        SPEC,
        tmp_path,
        database_url=url,
        redis_url=redis_url,
        settings={"WORKERS": str(WORKERS), "METRICS_PORT": str(base)},
    )
    await service.start()
    for index in range(WORKERS):
        await wait_for_metrics(base + index)
    yield service
    service.kill()


async def test_both_workers_answer_calls_on_the_one_port(two_workers: ServiceProcess) -> None:
    for _ in range(CONNECTIONS):
        async with grpc.aio.insecure_channel(two_workers.address) as channel:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    base = int(two_workers.env[f"{SPEC.env_prefix}METRICS_PORT"])
    assert all(checks_served(base + index) > 0 for index in range(WORKERS))


async def test_one_sigterm_stops_every_worker_and_exits_zero(two_workers: ServiceProcess) -> None:
    assert two_workers.terminate() == 0, two_workers.log_tail()


async def test_workers_whose_parent_is_killed_stop_by_themselves(
    two_workers: ServiceProcess,
) -> None:
    children = psutil.Process(two_workers.pid).children()
    assert len(children) == WORKERS
    two_workers.kill()
    _, alive = await asyncio.to_thread(psutil.wait_procs, children, timeout=15)
    assert alive == []
