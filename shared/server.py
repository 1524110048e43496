"""One bootstrap for every service: runtime, grpc.aio server, health that follows readiness,
reflection, tracing, graceful shutdown, and several worker processes when configured."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import uvloop
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from redis.asyncio import Redis

from shared import logs, metrics, tracing, workers
from shared.auth import Access, TokenService
from shared.cache import Cache
from shared.clients import ServiceClient
from shared.config import ServiceSettings, T, load_settings
from shared.db import Database
from shared.pipeline import RequestPipeline
from shared.readiness import Readiness
from shared.service import ServiceSpec

# Allocations before a young collection, and collections of each generation before one
# of the next (Python's defaults: 700, 10, 10). A young collection's pause grows with its
# size: at 20,000 it took 7-8 ms and stalled every call in flight (list reads at 150/s
# had their p99 there, 13-16 ms), at 2,000 it takes about 1 ms. The older generations
# wait fifty times as long as the defaults, so full collections stay rare.
GC_THRESHOLDS = (2_000, 50, 50)
log = logs.get_logger("daira.server")

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# A health "service" that is SERVING while the process runs, whatever its readiness: the
# liveness probe asks for it, so an outage of PostgreSQL takes replicas out of rotation
# without restarting them.
LIVENESS = "liveness"


@dataclass
class Runtime:
    """What a service's handlers get to work with; built once per process."""

    spec: ServiceSpec
    settings: ServiceSettings
    db: Database
    redis: Redis
    cache: Cache
    tokens: TokenService

    def client(self, service: str) -> ServiceClient:
        """A client of another service, at the address its settings name (`<service>_address`),
        calling as this service with its service token."""
        address = getattr(self.settings, f"{service}_address")
        return ServiceClient(address, name=service, caller=self.spec.name, tokens=self.tokens)


@dataclass(frozen=True)
class Endpoint:
    """A service's servicer, how to mount it, and who may call each of its RPCs."""

    servicer: Any
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    access: Mapping[str, Access]
    # Closes what the servicer itself started (background tasks, channels to other
    # services); awaited once in-flight calls have drained, before the pools close.
    on_stop: Callable[[], Awaitable[None]] | None = None


Build = Callable[[Runtime], Awaitable[Endpoint]]


def build_runtime(spec: ServiceSpec, settings: ServiceSettings) -> Runtime:
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        slow_query_ms=settings.slow_query_ms,
    )
    redis = Redis.from_url(
        settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5, max_connections=256
    )
    tokens = TokenService(
        settings.auth_secret.get_secret_value(), settings.access_token_ttl_seconds
    )
    cache = Cache(
        redis,
        spec.name,
        near_ttl_seconds=settings.cache_near_ttl_seconds,
        near_tiers=spec.near_tiers,
    )
    return Runtime(spec, settings, db, redis, cache, tokens)


class RunningServer:
    def __init__(
        self, server: grpc.aio.Server, port: int, runtime: Runtime, endpoint: Endpoint
    ) -> None:
        self.server = server
        self.port = port
        self.runtime = runtime
        self.endpoint = endpoint
        self.health = health.aio.HealthServicer()
        self.readiness = Readiness(runtime.db, runtime.spec.migrations_dir)
        self._serving: bool | None = None
        self._readiness: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return f"{self.runtime.settings.host}:{self.port}"

    async def check_readiness(self) -> bool:
        """Probe once and set health to match: SERVING when the database answers and its
        schema is migrated, NOT_SERVING otherwise."""
        problem = await self.readiness.problem()
        serving = problem is None
        if serving != self._serving:
            if serving:
                log.info("ready", service=self.runtime.spec.name)
            else:
                log.warning("not ready", service=self.runtime.spec.name, reason=problem)
            status = health_pb2.HealthCheckResponse.SERVING if serving else NOT_SERVING
            for name in ("", self.runtime.spec.grpc_service):
                await self.health.set(name, status)
            self._serving = serving
        return serving

    async def _watch_readiness(self) -> None:
        while True:
            await self.check_readiness()
            await asyncio.sleep(self.runtime.settings.readiness_interval_seconds)

    async def stop(self, grace: float | None = None) -> None:
        if self._readiness is not None:
            self._readiness.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        if self.endpoint.on_stop is not None:
            await self.endpoint.on_stop()
        await self.runtime.cache.close()
        await self.runtime.db.dispose()
        await self.runtime.redis.aclose()


def _access_by_method(spec: ServiceSpec, endpoint: Endpoint) -> dict[str, Access]:
    """Full method names to access, refusing to start if any RPC lacks a policy."""
    service = descriptor_pool.Default().FindServiceByName(spec.grpc_service)
    names = {m.name for m in service.methods}
    if names != set(endpoint.access):
        missing, extra = names - set(endpoint.access), set(endpoint.access) - names
        raise RuntimeError(f"access policy mismatch: missing {missing}, unknown {extra}")
    access = {f"/{spec.grpc_service}/{m}": a for m, a in endpoint.access.items()}
    for method in ("Check", "List", "Watch"):
        access[f"/{HEALTH_SERVICE}/{method}"] = Access.PUBLIC
    return access


async def start(
    spec: ServiceSpec, settings: ServiceSettings, build: Build, *, access_log: bool = True
) -> RunningServer:
    """Build the runtime and the service, bind the port, and start serving."""
    runtime = build_runtime(spec, settings)
    endpoint = await build(runtime)
    pipeline = RequestPipeline(
        spec.name, _access_by_method(spec, endpoint), runtime.tokens, access_log=access_log
    )
    server = grpc.aio.server(
        interceptors=[pipeline],
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
        options=[
            ("grpc.so_reuseport", 1),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ],
    )
    endpoint.add_to_server(endpoint.servicer, server)
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    running = RunningServer(server, port, runtime, endpoint)
    health_pb2_grpc.add_HealthServicer_to_server(running.health, server)
    for name in ("", spec.grpc_service):
        await running.health.set(name, NOT_SERVING)
    await running.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [spec.grpc_service, HEALTH_SERVICE, reflection.SERVICE_NAME], server
    )
    await server.start()
    runtime.cache.start()
    running._readiness = asyncio.create_task(running._watch_readiness())
    return running


def settle_heap() -> None:
    """Once serving: what startup made (modules, descriptors, the pool) lives as long as
    the process, so it is frozen out of the collector's reach, and the collector runs by
    GC_THRESHOLDS; a full collection then walks only what requests made, instead of
    stalling a call for the whole heap (seen as p99 tails of list reads)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def serve(spec: ServiceSpec, settings: ServiceSettings, build: Build) -> None:
    """Serve until SIGTERM or SIGINT, then drain in-flight calls within the grace period."""
    tracing.configure(spec.name, settings.otlp_endpoint)
    running = await start(spec, settings, build)
    settle_heap()
    metrics.serve_metrics(settings.metrics_port, settings.host)
    log.info("serving", service=spec.name, address=running.address)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    orphan_watch = asyncio.create_task(workers.orphaned())
    orphan_watch.add_done_callback(lambda _: stopping.set())
    await stopping.wait()
    orphan_watch.cancel()
    log.info("shutting down", service=spec.name, grace_seconds=settings.shutdown_grace_seconds)
    await running.stop(settings.shutdown_grace_seconds)
    tracing.shutdown()


def main(spec: ServiceSpec, settings_cls: type[T], build: Build) -> None:
    """Entry point of `python -m services.<name>`: one server, or `workers` of them."""
    settings = load_settings(settings_cls, spec.name)
    if not settings.port:
        settings = settings.model_copy(update={"port": spec.port})
    if settings.workers > 1:
        sys.exit(workers.supervise(spec, settings))
    logs.configure(settings.log_level, settings.log_json)
    with contextlib.suppress(KeyboardInterrupt):
        # On uvloop, through which every call's many small database, Redis and gRPC reads
        # and writes go, the benchmark's reads answered with a fifth to a third lower p99.
        uvloop.run(serve(spec, settings, build))
