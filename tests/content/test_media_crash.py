"""Media and its storage reservation stay consistent whatever breaks between the services.

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
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from daira.content.v1 import content_pb2, content_pb2_grpc
from services.content import SPEC
from shared.embedded import free_port
from shared.server import RunningServer
from tests import harness

from .conftest import (
    SECRET,
    SOCIAL_ADDRESS,
    content_service,
    create_comment,
    create_post,
    get_post,
    hashtag_post_ids,
    new_request_id,
    storage_used,
    trending_ids,
    unique_tag,
    user_post_ids,
)

ROOT = Path(__file__).resolve().parents[2]
SETTLE_SECONDS = 10.0


# --- a users service the test can break --------------------------------------------------


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


# --- content services of the test's own ------------------------------------------------


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


# --- the invariant -----------------------------------------------------------------------


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


Check = Callable[[], Awaitable[list[tuple[str, int]]]]


@pytest.fixture
def invariant(content_db, accounts, users_stub, alice) -> Check:
    return lambda: assert_media_and_reservations_agree(content_db, accounts, users_stub, alice)


# --- the content process killed midway ---------------------------------------------------


async def test_content_killed_after_users_reserved_the_bytes_keeps_no_bytes_once_reconciled(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold after"
    post = await create_post(stub, alice)
    async with content_process(content_db_url, redis_url, users_address) as (process, port):
        channel, killed = stub_at(port)
        call = killed.AddPostMedia(add_media_request(post.id, 7777), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)
        assert await storage_used(users_stub, alice) == 7777  # reserved, reply not yet back

        process.kill()
        await process.wait()
        assert await outcome(call) != grpc.StatusCode.OK
        await channel.close()

    assert list((await get_post(stub, alice, post.id)).media) == []
    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)
    assert await invariant() == []


async def test_content_killed_before_users_saw_the_reservation_keeps_nothing_once_reconciled(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold before"
    post = await create_post(stub, alice)
    async with content_process(content_db_url, redis_url, users_address) as (process, port):
        channel, killed = stub_at(port)
        call = killed.AddPostMedia(add_media_request(post.id, 5555), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)

        process.kill()
        await process.wait()
        assert await outcome(call) != grpc.StatusCode.OK
        await channel.close()
    handler.go_on.set()  # had the held call survived its caller, it would reach users now
    await asyncio.sleep(0.2)

    assert await storage_used(users_stub, alice) == 0
    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)
    assert await invariant() == []


# --- the caller going away midway ------------------------------------------------------


async def test_caller_cancelling_midway_leaves_media_and_reservation_together(
    alice, stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold after"
    post = await create_post(stub, alice)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        call = content.AddPostMedia(add_media_request(post.id, 3333), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)

        call.cancel()
        with suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            await call
        handler.go_on.set()
        await asyncio.sleep(0.2)
        await channel.close()

    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)
    media = await invariant()
    shown = [m.size_bytes for m in (await get_post(stub, alice, post.id)).media]
    assert shown == [size for _, size in media]


async def test_caller_deadline_passing_midway_leaves_media_and_reservation_together(
    alice, stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold after"
    post = await create_post(stub, alice)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        call = content.AddPostMedia(
            add_media_request(post.id, 4444), metadata=alice.auth, timeout=0.5
        )
        await asyncio.wait_for(handler.arrived.wait(), 10)

        assert await outcome(call) == grpc.StatusCode.DEADLINE_EXCEEDED
        handler.go_on.set()
        await asyncio.sleep(0.2)
        await channel.close()

    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)
    media = await invariant()
    shown = [m.size_bytes for m in (await get_post(stub, alice, post.id)).media]
    assert shown == [size for _, size in media]


# --- users failing midway --------------------------------------------------------------


async def test_users_down_leaves_no_media_and_no_bytes(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "down"
    post = await create_post(stub, alice)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        code = await outcome(
            content.AddPostMedia(add_media_request(post.id, 1234), metadata=alice.auth)
        )
        await channel.close()

    assert code == grpc.StatusCode.UNAVAILABLE
    assert list((await get_post(stub, alice, post.id)).media) == []
    assert await storage_used(users_stub, alice) == 0
    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)
    assert await invariant() == []


async def test_lost_reply_then_a_retry_with_the_same_request_id_counts_the_bytes_once(
    alice, stub, users_stub, content_db, content_db_url, redis_url, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "lose reply"
    post = await create_post(stub, alice)
    request = add_media_request(post.id, 2222)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        first = await outcome(content.AddPostMedia(request, metadata=alice.auth))
        assert list((await get_post(stub, alice, post.id)).media) == []
        handler.modes.clear()

        media = (await content.AddPostMedia(request, metadata=alice.auth)).media
        await channel.close()

    assert first == grpc.StatusCode.UNAVAILABLE
    assert "ReserveStorage" in handler.reached_users
    assert [m.id for m in (await get_post(stub, alice, post.id)).media] == [media.id]
    assert await invariant() == [(f"content-media:{media.id}", 2222)]


async def test_lost_reply_without_a_retry_gives_the_bytes_back_once_reconciled(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "lose reply"
    post = await create_post(stub, alice)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        code = await outcome(
            content.AddPostMedia(add_media_request(post.id, 6666), metadata=alice.auth)
        )
        await channel.close()
    assert code == grpc.StatusCode.UNAVAILABLE
    assert await storage_used(users_stub, alice) == 6666  # reserved for media not shown

    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)

    assert await invariant() == []
    assert list((await get_post(stub, alice, post.id)).media) == []


async def test_a_reservation_landing_after_the_reconciler_withdrew_the_media_is_given_back(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold before"
    post = await create_post(stub, alice)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        call = content.AddPostMedia(add_media_request(post.id, 8888), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)
        async with reconciling(content_db_url, redis_url, users_server):
            await wait_until_settled(content_db, alice.id)  # the pending media is withdrawn

        handler.go_on.set()  # now the reservation reaches users
        code = await outcome(call)
        await channel.close()

    assert code == grpc.StatusCode.ABORTED
    assert "ReserveStorage" in handler.reached_users
    assert list((await get_post(stub, alice, post.id)).media) == []
    await wait_until_settled(content_db, alice.id)
    assert await invariant() == []


async def test_a_release_users_missed_is_retried_by_the_reconciler(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    post = await create_post(stub, alice)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        media = (
            await content.AddPostMedia(add_media_request(post.id, 9999), metadata=alice.auth)
        ).media
        handler.modes["ReleaseStorage"] = "down"

        await content.DeletePostMedia(
            content_pb2.DeletePostMediaRequest(id=media.id), metadata=alice.auth
        )
        await channel.close()
    assert list((await get_post(stub, alice, post.id)).media) == []
    assert await storage_used(users_stub, alice) == 9999  # owed, not yet given back

    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)

    assert await invariant() == []


async def test_post_deleted_while_its_media_is_being_reserved_keeps_no_bytes(
    alice, stub, content_db, content_db_url, redis_url, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold before"
    post = await create_post(stub, alice)
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        call = content.AddPostMedia(add_media_request(post.id, 4321), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)
        await content.DeletePost(content_pb2.DeletePostRequest(id=post.id), metadata=alice.auth)

        handler.go_on.set()  # the reservation reaches users after its post is gone
        code = await outcome(call)
        await wait_until_settled(content_db, alice.id)
        await channel.close()

    assert code == grpc.StatusCode.ABORTED
    assert "ReserveStorage" in handler.reached_users
    assert await invariant() == []


# --- CreatePost with media broken midway -------------------------------------------------


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


async def posts_of(content_db, account) -> list[tuple[str, bool]]:
    return await content_db.sql(
        "SELECT id::text, published FROM posts WHERE author_id = %s", account.id
    )


async def test_create_post_killed_after_reserving_some_media_keeps_no_post_and_no_bytes(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.passes["ReserveStorage"] = 1
    handler.modes["ReserveStorage"] = "hold after"
    async with content_process(content_db_url, redis_url, users_address) as (process, port):
        channel, killed = stub_at(port)
        call = killed.CreatePost(create_post_request(1111, 2222, 3333), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)
        assert await storage_used(users_stub, alice) == 3333  # two of three reserved

        process.kill()
        await process.wait()
        assert await outcome(call) != grpc.StatusCode.OK
        await channel.close()
    assert [published for _, published in await posts_of(content_db, alice)] == [False]

    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)

    assert await posts_of(content_db, alice) == []
    assert await invariant() == []


async def test_create_post_retried_after_a_kill_midway_publishes_it_counting_the_bytes_once(
    alice, stub, users_stub, content_db, content_db_url, redis_url, proxy, invariant
):
    handler, users_address = proxy
    handler.passes["ReserveStorage"] = 1
    handler.modes["ReserveStorage"] = "hold after"
    request = create_post_request(1111, 2222, 3333)
    async with content_process(content_db_url, redis_url, users_address) as (process, port):
        channel, killed = stub_at(port)
        call = killed.CreatePost(request, metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)
        process.kill()
        await process.wait()
        assert await outcome(call) != grpc.StatusCode.OK
        await channel.close()

    post = (await stub.CreatePost(request, metadata=alice.auth)).post

    assert await posts_of(content_db, alice) == [(post.id, True)]
    assert [m.size_bytes for m in post.media] == [1111, 2222, 3333]
    expected = sorted((f"content-media:{m.id}", m.size_bytes) for m in post.media)
    assert await invariant() == expected


async def test_create_post_with_users_down_keeps_no_post_and_no_bytes(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "down"
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        code = await outcome(content.CreatePost(create_post_request(1234), metadata=alice.auth))
        await channel.close()
    assert code == grpc.StatusCode.UNAVAILABLE
    assert await user_post_ids(stub, alice, alice.id) == []

    async with reconciling(content_db_url, redis_url, users_server):
        await wait_until_settled(content_db, alice.id)

    assert await posts_of(content_db, alice) == []
    assert await invariant() == []


async def test_create_post_cancelled_midway_still_publishes_the_post_with_its_reservations(
    alice, stub, content_db, content_db_url, redis_url, proxy, invariant
):
    handler, users_address = proxy
    handler.passes["ReserveStorage"] = 1
    handler.modes["ReserveStorage"] = "hold after"
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        call = content.CreatePost(create_post_request(1111, 2222), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)

        call.cancel()
        with suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            await call
        handler.go_on.set()
        await wait_until_settled(content_db, alice.id)
        await channel.close()

    ((post_id, published),) = await posts_of(content_db, alice)
    assert published
    media = await invariant()
    assert [m.size_bytes for m in (await get_post(stub, alice, post_id)).media] == [1111, 2222]
    assert sorted(size for _, size in media) == [1111, 2222]


async def test_a_reservation_landing_after_the_reconciler_withdrew_the_post_is_given_back(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold before"
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        call = content.CreatePost(create_post_request(8888), metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)
        async with reconciling(content_db_url, redis_url, users_server):
            await wait_until_settled(content_db, alice.id)  # the post is withdrawn

        handler.go_on.set()  # now the reservation reaches users
        code = await outcome(call)
        await channel.close()

    assert code == grpc.StatusCode.ABORTED
    assert "ReserveStorage" in handler.reached_users
    await wait_until_settled(content_db, alice.id)
    assert await posts_of(content_db, alice) == []
    assert await invariant() == []


# --- a post whose media's bytes are being reserved is not there yet ----------------------


@pytest.fixture
async def unpublished(alice, content_db, content_db_url, redis_url, proxy):
    """Alice's public, tagged post whose CreatePost waits before its media's bytes reach
    users, so it is not published: (its id, its tag). Let go (and published) at the end."""
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "hold before"
    tag = unique_tag()
    async with content_service(content_db_url, redis_url, users_address) as running:
        channel, content = stub_at(running.port)
        request = create_post_request(1000, text=f"coming soon #{tag}")
        call = content.CreatePost(request, metadata=alice.auth)
        await asyncio.wait_for(handler.arrived.wait(), 10)
        ((post_id, published),) = await posts_of(content_db, alice)
        assert not published
        yield post_id, tag
        handler.go_on.set()
        assert await outcome(call) == grpc.StatusCode.OK
        await channel.close()


async def test_unpublished_post_is_not_found_by_get_post(alice, stub, unpublished, rejected):
    post_id, _ = unpublished

    failure = await rejected(get_post(stub, alice, post_id))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_unpublished_post_is_missing_from_batch_get_posts(alice, stub, unpublished):
    post_id, _ = unpublished

    request = content_pb2.BatchGetPostsRequest(ids=[post_id])
    reply = await stub.BatchGetPosts(request, metadata=alice.auth)

    assert list(reply.posts) == []
    assert list(reply.missing_ids) == [post_id]


async def test_unpublished_post_is_not_listed_among_its_authors_posts(alice, stub, unpublished):
    assert await user_post_ids(stub, alice, alice.id) == []


async def test_unpublished_post_is_not_found_by_its_hashtag(alice, stub, unpublished):
    _, tag = unpublished

    assert await hashtag_post_ids(stub, alice, tag) == []


async def test_unpublished_post_is_not_trending(alice, stub, unpublished):
    post_id, _ = unpublished

    assert post_id not in await trending_ids(stub, alice)


async def test_unpublished_post_has_no_comments_to_list(alice, stub, unpublished, rejected):
    post_id, _ = unpublished

    request = content_pb2.ListCommentsRequest(post_id=post_id)
    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_unpublished_post_cannot_be_commented_on(alice, stub, unpublished, rejected):
    post_id, _ = unpublished

    failure = await rejected(create_comment(stub, alice, post_id))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_unpublished_post_cannot_take_more_media(
    alice, stub, users_stub, unpublished, rejected
):
    post_id, _ = unpublished

    failure = await rejected(
        stub.AddPostMedia(add_media_request(post_id, 500), metadata=alice.auth)
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert await storage_used(users_stub, alice) == 0


async def test_unpublished_post_cannot_be_edited(alice, stub, unpublished, rejected):
    post_id, _ = unpublished

    request = content_pb2.UpdatePostRequest(
        post=content_pb2.Post(id=post_id, text="edited"),
        update_mask={"paths": ["text"]},
    )
    failure = await rejected(stub.UpdatePost(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_unpublished_post_cannot_be_deleted(alice, stub, unpublished, rejected):
    post_id, _ = unpublished

    request = content_pb2.DeletePostRequest(id=post_id)
    failure = await rejected(stub.DeletePost(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND
