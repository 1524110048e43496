"""What the tests of media broken midway share: a users service they can break, content
services of their own, the requests they break, and the invariant.

"A failure between the two services never leaves bytes reserved for media that does not
exist, nor media (or the post that carries it) without its reservation." Each test
breaks AddPostMedia, CreatePost with media (or a release) midway: the content service
reaches users through a proxy the test controls, which can hold a call before or after it
reaches users, or lose its reply; or the content service runs as a real process and is
killed with SIGKILL while its ReserveStorage call is held. Then a content service
reconciles (services/content/media.py: stale `pending` media and unpublished posts are
rolled back, `releasing` media gets its bytes released) and the invariant must hold:

    the author's live reservations in users == the author's active media in content
    (same keys, same sizes), used_bytes == their sum, and no media is left half-done.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from daira.content.v1 import content_pb2, content_pb2_grpc
from services.content import SPEC
from shared.ports import free_port
from shared.server import RunningServer
from tests import harness

from .conftest import SECRET, SOCIAL_ADDRESS, content_service, new_request_id, storage_used

ROOT = Path(__file__).resolve().parents[2]
SETTLE_SECONDS = 10.0


# --- a users service the test can break -----------------------------------------------


@dataclass
class UsersProxy(grpc.GenericRpcHandler):
    """Forwards every call to the real users service, except as a test says for one method:

    - "hold before": wait at the proxy until released; the call has not reached users;
    - "hold after": the call reached users (and committed), the reply waits until released;
    - "lose reply": the call reached users, the caller gets UNAVAILABLE instead of the reply;
    - "down": the caller gets UNAVAILABLE, nothing reaches users.

    `passes` lets that many calls of a method through untouched before its mode applies.
    """

    upstream: grpc.aio.Channel
    modes: dict[str, str] = field(default_factory=dict)
    passes: dict[str, int] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    go_on: asyncio.Event = field(default_factory=asyncio.Event)
    reached_users: list[str] = field(default_factory=list)

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        name = method.rsplit("/", 1)[-1]

        async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            mode = self.modes.get(name)
            if self.passes.get(name, 0) > 0:
                self.passes[name] -= 1
                mode = None
            if mode == "down":
                await context.abort(grpc.StatusCode.UNAVAILABLE, "users is down (test proxy)")
            if mode == "hold before":
                self.arrived.set()
                await self.go_on.wait()
            metadata = tuple(
                (key, value)
                for key, value in context.invocation_metadata()
                if key in ("authorization", "x-request-id")
            )
            try:
                reply = await self.upstream.unary_unary(method)(
                    request, metadata=metadata, timeout=10
                )
            except grpc.aio.AioRpcError as err:
                trailing = tuple(err.trailing_metadata() or ())
                await context.abort(err.code(), err.details() or "", trailing)
            self.reached_users.append(name)
            if mode == "hold after":
                self.arrived.set()
                await self.go_on.wait()
            elif mode == "lose reply":
                await context.abort(grpc.StatusCode.UNAVAILABLE, "reply lost (test proxy)")
            return reply

        return grpc.unary_unary_rpc_method_handler(handle)


@pytest.fixture
async def proxy(users_server: RunningServer) -> AsyncIterator[tuple[UsersProxy, str]]:
    """The proxy, and the address content should call users at."""
    upstream = grpc.aio.insecure_channel(f"127.0.0.1:{users_server.port}")
    handler = UsersProxy(upstream)
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield handler, f"127.0.0.1:{port}"
    handler.go_on.set()
    await server.stop(0)
    await upstream.close()


# --- content services of the test's own -----------------------------------------------


@asynccontextmanager
async def reconciling(content_db_url: str, redis_url: str, users_server: RunningServer):
    """A content service whose reconciler treats every pending media and unpublished post
    as abandoned and retries owed releases at once, running every 50 ms while the block
    lasts."""
    async with content_service(
        content_db_url,
        redis_url,
        f"127.0.0.1:{users_server.port}",
        media_pending_timeout_seconds=0.0,
        media_reconcile_interval_seconds=0.05,
    ):
        yield


@asynccontextmanager
async def content_process(
    database_url: str, redis_url: str, users_address: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """`python -m services.content` as its own process, SERVING; killed at the end."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")]),
        "DAIRA_CONTENT_DATABASE_URL": database_url,
        "DAIRA_CONTENT_REDIS_URL": redis_url,
        "DAIRA_CONTENT_HOST": "127.0.0.1",
        "DAIRA_CONTENT_PORT": str(port),
        "DAIRA_CONTENT_AUTH_SECRET": SECRET,
        "DAIRA_CONTENT_USERS_ADDRESS": users_address,
        "DAIRA_CONTENT_SOCIAL_ADDRESS": SOCIAL_ADDRESS,
        "DAIRA_CONTENT_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.content",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await harness.wait_until_serving(port, SPEC.grpc_service)
        yield process, port
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


# --- the requests broken midway -------------------------------------------------------


def add_media_request(post_id: str, size: int, request_id: str = ""):
    return content_pb2.AddPostMediaRequest(
        post_id=post_id,
        url=f"https://cdn.example.com/{uuid.uuid4().hex}.mp4",
        mime_type="video/mp4",
        size_bytes=size,
        width=1920,
        height=1080,
        request_id=request_id or new_request_id(),
    )


def create_post_request(*sizes: int, text: str = "") -> content_pb2.CreatePostRequest:
    media = [
        content_pb2.PostMedia(
            url=f"https://cdn.example.com/{uuid.uuid4().hex}.mp4",
            mime_type="video/mp4",
            size_bytes=size,
            width=1920,
            height=1080,
        )
        for size in sizes
    ]
    return content_pb2.CreatePostRequest(
        text=text or f"post {uuid.uuid4().hex}",
        visibility=content_pb2.VISIBILITY_PUBLIC,
        media=media,
        request_id=new_request_id(),
    )


async def outcome(call: Awaitable[Any]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        return err.code()
    return grpc.StatusCode.OK


def stub_at(port: int) -> tuple[grpc.aio.Channel, content_pb2_grpc.ContentServiceStub]:
    """A plain channel: a call cut off by a killed server is no UNKNOWN of the service's."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    return channel, content_pb2_grpc.ContentServiceStub(channel)


# --- the invariant --------------------------------------------------------------------


async def reconciled(
    content_db, content_db_url: str, redis_url: str, users_server: RunningServer, author_id: str
) -> None:
    """Once a reconciling content service has settled the author's media."""
    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, author_id)


async def add_media_alone(
    users_address: str, content_db_url: str, redis_url: str, caller: Any, request: Any
) -> grpc.StatusCode:
    """How one AddPostMedia ended, sent to a content service of its own that reaches
    users at `users_address`."""
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        code = await outcome(content.AddPostMedia(request, metadata=caller.auth))
        await channel.close()
    return code


async def unsettled_media(content_db, author_id: str) -> list[tuple[str, str]]:
    return await content_db.sql(
        "SELECT id::text, state FROM post_media WHERE author_id = %s AND state <> 'active'",
        author_id,
    )


async def wait_until_settled(content_db, author_id: str) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while rows := await unsettled_media(content_db, author_id):
        assert time.monotonic() < deadline, f"media never settled: {rows}"
        await asyncio.sleep(0.05)


async def posts_of(content_db, account) -> list[tuple[str, bool]]:
    return await content_db.sql(
        "SELECT id::text, published FROM posts WHERE author_id = %s", account.id
    )


async def assert_media_and_reservations_agree(
    content_db, accounts, users_stub, account
) -> list[tuple[str, int]]:
    """The invariant; returns the author's active media as (reservation key, bytes)."""
    media = await content_db.sql(
        "SELECT reservation_key, size_bytes FROM post_media "
        "WHERE author_id = %s AND state = 'active' ORDER BY reservation_key",
        account.id,
    )
    reserved = await accounts.sql(
        "SELECT request_id, bytes FROM storage_reservations "
        "WHERE user_id = %s AND released_at IS NULL ORDER BY request_id",
        account.id,
    )
    assert await unsettled_media(content_db, account.id) == []
    assert reserved == media, "live reservations and active media differ"
    assert await storage_used(users_stub, account) == sum(size for _, size in media)
    return media


Check = Callable[[], Awaitable[list[tuple[str, int]]]]


@pytest.fixture
def invariant(content_db, accounts, users_stub, alice) -> Check:
    return lambda: assert_media_and_reservations_agree(content_db, accounts, users_stub, alice)
