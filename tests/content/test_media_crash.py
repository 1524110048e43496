"""Media and its reservation stay together when the content service is killed midway.

The content service runs as its own process and is killed with SIGKILL while its
ReserveStorage call is held, before or after users saw it (media_crash.py has the
invariant and the harness); a reconciling content service, or the caller's retry with
the same request id, then leaves every reservation matched by active media.
"""

from __future__ import annotations

import asyncio

import grpc

from .conftest import create_post, get_post, storage_used
from .media_crash import (
    add_media_request,
    content_process,
    create_post_request,
    invariant,
    outcome,
    posts_of,
    proxy,
    reconciled,
    stub_at,
)

# The fixtures of the media crash harness, registered here by being imported.
__all__ = ["invariant", "proxy"]


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
    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)
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
    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)
    assert await invariant() == []


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

    await reconciled(content_db, content_db_url, redis_url, users_server, alice.id)

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
