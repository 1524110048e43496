"""Media and its reservation stay together when users fails or is slow midway.

The content service reaches users through a proxy that can be down, lose a reply, or
hold a reservation until the reconciler or the author has withdrawn its media or post
(media_crash.py has the invariant and the harness): no bytes stay reserved for media
that is gone, and a release users missed is retried.
"""

from __future__ import annotations

import asyncio

import grpc

from daira.content.v1 import content_pb2

from .conftest import content_service, create_post, get_post, storage_used, user_post_ids
from .media_crash import (
    add_media_alone,
    add_media_request,
    create_post_request,
    invariant,
    outcome,
    posts_of,
    proxy,
    reconciled,
    reconciling,
    stub_at,
    wait_until_settled,
)

# The fixtures of the media crash harness, registered here by being imported.
__all__ = ["invariant", "proxy"]


async def test_users_down_leaves_no_media_and_no_bytes(
    alice, stub, users_stub, content_db, content_db_url, redis_url, users_server, proxy, invariant
):
    handler, users_address = proxy
    handler.modes["ReserveStorage"] = "down"
    post = await create_post(stub, alice)
    request = add_media_request(post.id, 1234)
    code = await add_media_alone(users_address, content_db_url, redis_url, alice, request)

    assert code == grpc.StatusCode.UNAVAILABLE
    assert list((await get_post(stub, alice, post.id)).media) == []
    assert await storage_used(users_stub, alice) == 0
    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)
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
    request = add_media_request(post.id, 6666)
    code = await add_media_alone(users_address, content_db_url, redis_url, alice, request)
    assert code == grpc.StatusCode.UNAVAILABLE
    assert await storage_used(users_stub, alice) == 6666  # reserved for media not shown

    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)

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

    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)

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

    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)

    assert await posts_of(content_db, alice) == []
    assert await invariant() == []


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
