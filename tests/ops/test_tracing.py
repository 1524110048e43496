"""One trace across services: content's span, its call to users, and users' span share a
trace id, each span the child of the one before (W3C traceparent in gRPC metadata)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from daira.content.v1 import content_pb2, content_pb2_grpc
from shared import tracing
from shared.server import RunningServer
from tests.content.conftest import content_db_url, content_server
from tests.users.conftest import (
    Account,
    Accounts,
    accounts,
    open_channel,
    users_db_url,
    users_server,
    users_stub,
)

# Fixtures of the users and content harnesses, registered here by being imported.
__all__ = [
    "accounts",
    "content_db_url",
    "content_server",
    "users_db_url",
    "users_server",
    "users_stub",
]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.install("daira-tests", SimpleSpanProcessor(exporter))
    yield exporter
    tracing.shutdown()


def named(spans: tuple[ReadableSpan, ...], kind: SpanKind, name: str) -> ReadableSpan:
    (span,) = [span for span in spans if span.kind is kind and span.name == name]
    return span


async def test_a_post_mentioning_a_user_is_one_trace_from_content_through_users(
    spans: InMemorySpanExporter, content_server: RunningServer, accounts: Accounts
) -> None:
    author: Account = await accounts.create()
    mentioned: Account = await accounts.create()
    async with open_channel(content_server.port) as channel:
        stub = content_pb2_grpc.ContentServiceStub(channel)
        request = content_pb2.CreatePostRequest(
            text=f"hello @{mentioned.username}", request_id=uuid.uuid4().hex
        )
        spans.clear()
        await stub.CreatePost(request, metadata=author.auth)
    finished = spans.get_finished_spans()
    post = named(finished, SpanKind.SERVER, "/daira.content.v1.ContentService/CreatePost")
    (call,) = [
        span
        for span in finished
        if span.kind is SpanKind.CLIENT and span.attributes["rpc.service"] == "users"
    ]
    method = call.attributes["rpc.method"]
    served = named(finished, SpanKind.SERVER, f"/daira.users.v1.UserService/{method}")
    assert post.context and call.context and served.context
    assert call.context.trace_id == post.context.trace_id == served.context.trace_id
    assert call.parent and call.parent.span_id == post.context.span_id
    assert served.parent and served.parent.span_id == call.context.span_id


def test_no_trace_context_is_sent_while_tracing_is_off() -> None:
    assert tracing.tracer is None
    with tracing.client_span("users", "GetUser") as metadata:
        assert metadata == ()


def test_an_otlp_endpoint_turns_tracing_on() -> None:
    tracing.configure("daira-tests", "127.0.0.1:4317")
    try:
        assert tracing.tracer is not None
    finally:
        tracing.shutdown()
    assert tracing.tracer is None


def test_no_otlp_endpoint_leaves_tracing_off() -> None:
    tracing.configure("daira-tests", "")
    assert tracing.tracer is None
