"""Calls between services through shared.clients, against real grpc.aio servers.

`down` is a downstream service behind the request pipeline; `up` is a service whose
Relay RPC calls `down` through a ServiceClient, so the inbound deadline and request id
come from a real RPC.
"""

from __future__ import annotations

import asyncio
import contextvars
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from shared import metrics
from shared.auth import Access, Role, TokenService, optional_principal
from shared.clients import BreakerState, CircuitBreaker, ServiceClient
from shared.context import Inbound, inbound
from shared.errors import DeadlineExceeded, NotFound, Relayed, Unavailable
from shared.pipeline import RequestPipeline

SECRET = "c" * 40
TOKENS = TokenService(SECRET, 60)


class Downstream:
    """What the downstream handlers saw and how they behave; reset for every test."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.seen: list[dict[str, Any]] = []
        self.failures_left = 0


down_state = Downstream()


async def echo(request: bytes, context: Any) -> bytes:
    down_state.attempts["Echo"] += 1
    principal = optional_principal()
    down_state.seen.append(
        {
            "metadata": dict(context.invocation_metadata() or ()),
            "time_remaining": context.time_remaining(),
            "subject": principal.subject if principal else None,
        }
    )
    return request


async def flaky(request: bytes, context: Any) -> bytes:
    down_state.attempts["Flaky"] += 1
    if down_state.failures_left > 0:
        down_state.failures_left -= 1
        raise Unavailable("busy, try again")
    return b"ok"


async def missing(request: bytes, context: Any) -> bytes:
    raise NotFound("thing", "t1")


async def boom(request: bytes, context: Any) -> bytes:
    raise RuntimeError("secret internals")


async def slow(request: bytes, context: Any) -> bytes:
    down_state.attempts["Slow"] += 1
    await asyncio.sleep(1)
    return b"late"


DOWN = {"Echo": echo, "Flaky": flaky, "Missing": missing, "Boom": boom, "Slow": slow}


async def start(
    name: str, behaviors: dict[str, Any], access: Access
) -> tuple[grpc.aio.Server, str]:
    handlers = {m: grpc.unary_unary_rpc_method_handler(b) for m, b in behaviors.items()}
    policy = {f"/{name}/{m}": access for m in behaviors}
    server = grpc.aio.server(interceptors=[RequestPipeline(name, policy, TOKENS, False)])
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(name, handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
async def down_address() -> AsyncIterator[str]:
    server, address = await start("down.Svc", DOWN, Access.SERVICE)
    yield address
    await server.stop(0)


@pytest.fixture(scope="module")
async def up(down_address: str) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to `up`, whose Relay calls the `down` method named in its request."""
    relay_client = ServiceClient(down_address, name="down", caller="up", tokens=TOKENS)

    async def relay(request: bytes, context: Any) -> bytes:
        rpc = relay_client.channel.unary_unary(f"/down.Svc/{request.decode()}")
        return await relay_client.call(rpc, b"relayed", idempotent=True)

    server, address = await start("up.Svc", {"Relay": relay}, Access.PUBLIC)
    async with grpc.aio.insecure_channel(address) as channel:
        yield channel
    await server.stop(0)
    await relay_client.close()


@pytest.fixture(autouse=True)
def fresh_downstream() -> None:
    global down_state
    down_state = Downstream()


@pytest.fixture
async def client(down_address: str) -> AsyncIterator[ServiceClient]:
    async with ServiceClient(down_address, name="down", caller="content", tokens=TOKENS) as c:
        yield c


def method(client: ServiceClient, name: str) -> Any:
    return client.channel.unary_unary(f"/down.Svc/{name}")


class Counting:
    """A multi-callable that counts the calls that actually go out."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._method = inner._method
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._inner(*args, **kwargs)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_details(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    raise AssertionError("no status details")


# Deadlines and request ids


async def test_the_downstream_timeout_is_capped_by_the_inbound_deadline(up) -> None:
    await up.unary_unary("/up.Svc/Relay")(b"Echo", timeout=0.5)
    remaining = down_state.seen[0]["time_remaining"]
    assert 0.2 < remaining <= 0.45  # the caller's 0.5 s minus the 0.05 s margin, not 2 s


async def test_the_inbound_request_id_is_passed_on(up) -> None:
    await up.unary_unary("/up.Svc/Relay")(b"Echo", metadata=(("x-request-id", "req-chain-1"),))
    assert down_state.seen[0]["metadata"]["x-request-id"] == "req-chain-1"


async def test_a_call_outside_an_rpc_gets_a_request_id_of_its_own(client) -> None:
    await client.call(method(client, "Echo"), b"x", idempotent=True)
    assert down_state.seen[0]["metadata"]["x-request-id"]


async def test_no_time_left_fails_before_calling(client) -> None:
    context = contextvars.copy_context()
    context.run(inbound.set, Inbound("req-late", time.monotonic() + 0.01))
    call = client.call(method(client, "Echo"), b"x", idempotent=True)
    with pytest.raises(DeadlineExceeded):
        await asyncio.create_task(call, context=context)
    assert down_state.attempts["Echo"] == 0


# Tokens


async def test_the_service_token_is_accepted_by_an_internal_method(client) -> None:
    assert await client.call(method(client, "Echo"), b"x", idempotent=True) == b"x"
    assert down_state.seen[0]["subject"] == "service:content"


async def test_the_service_token_is_minted_once_and_reused(down_address) -> None:
    class CountingTokens(TokenService):
        minted = 0

        def issue_service(self, service: str, ttl_seconds: int = 300) -> str:
            CountingTokens.minted += 1
            return super().issue_service(service, ttl_seconds)

    tokens = CountingTokens(SECRET, 60)
    async with ServiceClient(down_address, caller="content", tokens=tokens) as client:
        for _ in range(3):
            await client.call(method(client, "Echo"), b"x", idempotent=True)
    assert CountingTokens.minted == 1


async def test_a_forwarded_user_token_is_sent_instead_of_the_service_token(client) -> None:
    user_token, _ = TOKENS.issue_access(uuid.uuid4(), Role.USER, uuid.uuid4())
    with pytest.raises(Relayed) as caught:
        await client.call(method(client, "Echo"), b"x", idempotent=True, token=user_token)
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.reason == "ROLE_NOT_ALLOWED"


# Retries


async def test_an_idempotent_call_is_retried_after_unavailable(client) -> None:
    down_state.failures_left = 1
    assert await client.call(method(client, "Flaky"), b"x", idempotent=True) == b"ok"
    assert down_state.attempts["Flaky"] == 2


async def test_a_call_that_is_not_idempotent_is_not_retried(client) -> None:
    down_state.failures_left = 1
    with pytest.raises(Unavailable):
        await client.call(method(client, "Flaky"), b"x", idempotent=False)
    assert down_state.attempts["Flaky"] == 1


async def test_retries_stop_within_the_timeout(down_address) -> None:
    down_state.failures_left = 1_000
    breaker = CircuitBreaker(failures=1_000)
    async with ServiceClient(
        down_address, caller="content", tokens=TOKENS, timeout=0.15, retries=100, breaker=breaker
    ) as client:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await client.call(method(client, "Flaky"), b"x", idempotent=True)
    assert time.monotonic() - started < 0.15 + 0.05
    assert 1 < down_state.attempts["Flaky"] < 100


async def test_a_timeout_is_not_retried(down_address) -> None:
    async with ServiceClient(
        down_address, name="down", caller="content", tokens=TOKENS, timeout=0.1
    ) as client:
        with pytest.raises(Unavailable, match=r"down did not answer within 0\.1 s"):
            await client.call(method(client, "Slow"), b"x", idempotent=True)
    assert down_state.attempts["Slow"] == 1


# Errors


async def test_a_downstream_not_found_reaches_the_edge_with_its_code_and_error_info(up) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await up.unary_unary("/up.Svc/Relay")(b"Missing")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "thing 't1' not found"
    info = error_details_pb2.ErrorInfo()
    assert status_details(caught.value).details[0].Unpack(info)
    assert (info.reason, info.metadata["name"]) == ("THING_NOT_FOUND", "t1")


async def test_a_relayed_error_carries_the_downstream_code_and_reason(client) -> None:
    with pytest.raises(Relayed) as caught:
        await client.call(method(client, "Missing"), b"x", idempotent=True)
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert caught.value.reason == "THING_NOT_FOUND"
    assert caught.value.service == "down"


async def test_a_downstream_internal_error_becomes_unavailable_naming_the_service(client) -> None:
    with pytest.raises(Unavailable) as caught:
        await client.call(method(client, "Boom"), b"x", idempotent=True)
    assert caught.value.message == "down failed"
    assert caught.value.metadata == {"service": "down"}


async def test_a_service_that_is_down_is_unavailable_naming_it() -> None:
    async with ServiceClient(
        f"127.0.0.1:{closed_port()}", name="ghost", caller="content", tokens=TOKENS
    ) as client:
        with pytest.raises(Unavailable) as caught:
            await client.call(client.channel.unary_unary("/ghost.Svc/Get"), b"", idempotent=True)
    assert caught.value.message == "ghost is unavailable"
    assert caught.value.reason == "UPSTREAM_UNAVAILABLE"
    assert caught.value.metadata == {"service": "ghost"}


# The circuit breaker


def down_client(breaker: CircuitBreaker, address: str | None = None) -> ServiceClient:
    address = address or f"127.0.0.1:{closed_port()}"
    return ServiceClient(address, caller="content", tokens=TOKENS, retries=0, breaker=breaker)


async def test_the_breaker_opens_after_consecutive_failures_and_then_fails_fast() -> None:
    async with down_client(CircuitBreaker(failures=2, cool_down=60)) as client:
        rpc = Counting(client.channel.unary_unary("/ghost.Svc/Get"))
        for _ in range(2):
            with pytest.raises(Unavailable):
                await client.call(rpc, b"", idempotent=True)
        assert client.breaker.state is BreakerState.OPEN
        with pytest.raises(Unavailable, match="paused after repeated failures"):
            await client.call(rpc, b"", idempotent=True)
    assert rpc.calls == 2


async def test_after_the_cool_down_a_failed_trial_opens_the_breaker_again() -> None:
    async with down_client(CircuitBreaker(failures=1, cool_down=0.1)) as client:
        rpc = Counting(client.channel.unary_unary("/ghost.Svc/Get"))
        with pytest.raises(Unavailable):
            await client.call(rpc, b"", idempotent=True)
        await asyncio.sleep(0.12)
        assert client.breaker.state is BreakerState.HALF_OPEN
        with pytest.raises(Unavailable):
            await client.call(rpc, b"", idempotent=True)
        assert rpc.calls == 2
        assert client.breaker.state is BreakerState.OPEN


async def test_after_the_cool_down_a_successful_trial_closes_the_breaker(down_address) -> None:
    down_state.failures_left = 1
    async with down_client(CircuitBreaker(failures=1, cool_down=0.1), down_address) as client:
        with pytest.raises(Unavailable):
            await client.call(method(client, "Flaky"), b"x", idempotent=True)
        with pytest.raises(Unavailable):
            await client.call(method(client, "Flaky"), b"x", idempotent=True)
        assert down_state.attempts["Flaky"] == 1  # the second call never went out
        await asyncio.sleep(0.12)
        assert await client.call(method(client, "Flaky"), b"x", idempotent=True) == b"ok"
        assert client.breaker.state is BreakerState.CLOSED


def test_half_open_lets_a_single_trial_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=1, cool_down=5, clock=lambda: now[0])
    breaker.failed()
    assert not breaker.allow()
    now[0] = 5.0
    assert breaker.allow()
    assert not breaker.allow()
    breaker.succeeded()
    assert breaker.allow()


# Metrics


async def test_downstream_calls_are_counted_by_service_method_and_code(client) -> None:
    counter = metrics.DOWNSTREAM_CALLS.labels("down", "Missing", "NOT_FOUND")
    before = counter._value.get()
    with pytest.raises(Relayed):
        await client.call(method(client, "Missing"), b"x", idempotent=True)
    assert counter._value.get() == before + 1
