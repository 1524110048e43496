"""The request pipeline on a real grpc.aio server with a bare test service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared import metrics
from shared.auth import Access, Role, TokenService
from shared.errors import NotFound
from shared.pipeline import RequestPipeline

SECRET = "p" * 40


async def boom(request: bytes, context: Any) -> bytes:
    raise RuntimeError("secret internals")


async def saturated(request: bytes, context: Any) -> bytes:
    raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")


async def missing(request: bytes, context: Any) -> bytes:
    raise NotFound("thing", "t1")


async def echo(request: bytes, context: Any) -> bytes:
    return request


ACCESS = {
    "/test.Svc/Boom": Access.PUBLIC,
    "/test.Svc/Missing": Access.PUBLIC,
    "/test.Svc/Echo": Access.PUBLIC,
    "/test.Svc/AdminEcho": Access.ADMIN,
    "/test.Svc/Saturated": Access.PUBLIC,
}


@pytest.fixture(scope="module")
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    handlers = {
        name.rsplit("/", 1)[1]: grpc.unary_unary_rpc_method_handler(behavior)
        for name, behavior in zip(ACCESS, (boom, missing, echo, echo, saturated), strict=True)
    }
    pipeline = RequestPipeline("test", ACCESS, TokenService(SECRET, 60), access_log=False)
    server = grpc.aio.server(interceptors=[pipeline])
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Svc", handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(0)


def details(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    raise AssertionError("no status details")


async def call(channel: grpc.aio.Channel, method: str, **kwargs: Any) -> bytes:
    return await channel.unary_unary(f"/test.Svc/{method}")(b"hi", **kwargs)


async def test_an_unexpected_failure_is_internal_with_only_a_request_id(channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Boom", metadata=(("x-request-id", "req-42"),))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "secret internals" not in caught.value.details()
    assert "Traceback" not in caught.value.details()
    info = error_details_pb2.ErrorInfo()
    assert details(caught.value).details[0].Unpack(info)
    assert info.metadata["request_id"] == "req-42"


async def test_a_database_with_no_connection_free_is_unavailable_not_internal(channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Saturated")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "QueuePool" not in caught.value.details()
    info = error_details_pb2.ErrorInfo()
    assert details(caught.value).details[0].Unpack(info)
    assert info.reason == "DATABASE_UNAVAILABLE"


async def test_a_domain_error_keeps_its_code_and_error_info(channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Missing")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    info = error_details_pb2.ErrorInfo()
    assert details(caught.value).details[0].Unpack(info)
    assert info.reason == "THING_NOT_FOUND"


async def test_a_call_for_admins_without_a_token_is_unauthenticated(channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "AdminEcho")
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_call_for_admins_with_a_user_token_is_denied(channel) -> None:
    import uuid

    token, _ = TokenService(SECRET, 60).issue_access(uuid.uuid4(), Role.USER, uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "AdminEcho", metadata=(("authorization", f"Bearer {token}"),))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_garbage_token_is_unauthenticated_even_on_a_public_call(channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Echo", metadata=(("authorization", "Bearer nonsense"),))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_calls_are_counted_by_method_and_code(channel) -> None:
    counter = metrics.RPC_REQUESTS.labels("test", "Echo", "OK")
    before = counter._value.get()
    assert await call(channel, "Echo") == b"hi"
    assert counter._value.get() == before + 1


async def test_a_request_that_does_not_parse_is_invalid_naming_its_field() -> None:
    from daira.users.v1 import users_pb2

    async def register(request: Any, context: Any) -> users_pb2.RegisterResponse:
        raise AssertionError("the handler must not see an undecodable request")

    handler = grpc.unary_unary_rpc_method_handler(
        register,
        request_deserializer=users_pb2.RegisterRequest.FromString,
        response_serializer=users_pb2.RegisterResponse.SerializeToString,
    )
    access = {"/test.Typed/Register": Access.PUBLIC}
    server = grpc.aio.server(
        interceptors=[RequestPipeline("test", access, TokenService(SECRET, 60), access_log=False)]
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("test.Typed", {"Register": handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as typed:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                # username (field 1) holding a UTF-16 surrogate, which UTF-8 never encodes
                await typed.unary_unary("/test.Typed/Register")(b"\x0a\x03\xed\xa0\x80")
    finally:
        await server.stop(0)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert details(caught.value).details[0].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["username"]
