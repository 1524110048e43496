"""Media and its reservation stay together when the caller goes away midway.

The caller cancels, or its deadline passes, while the content service's ReserveStorage
call is held after users committed it (media_crash.py has the invariant and the
harness): the media the call was adding is shown with its reservation or not at all.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

import grpc

from .conftest import content_service, create_post, get_post
from .media_crash import (
    add_media_request,
    create_post_request,
    invariant,
    outcome,
    posts_of,
    proxy,
    reconciled,
    stub_at,
    wait_until_settled,
)

# The fixtures of the media crash harness, registered here by being imported.
__all__ = ["invariant", "proxy"]


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

    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)
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

    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)
    media = await invariant()
    shown = [m.size_bytes for m in (await get_post(stub, alice, post.id)).media]
    assert shown == [size for _, size in media]


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
