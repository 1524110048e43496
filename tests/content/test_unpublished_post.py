"""A post whose media's bytes are still being reserved is not there yet.

Until CreatePost has every item's reservation the post is unpublished: no read shows it
and no write reaches it, as if it did not exist.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import (
    content_service,
    create_comment,
    get_post,
    hashtag_post_ids,
    storage_used,
    trending_ids,
    unique_tag,
    user_post_ids,
)
from .media_crash import add_media_request, create_post_request, outcome, posts_of, proxy, stub_at

# The proxy fixture of the media crash harness, registered here by being imported.
__all__ = ["proxy"]


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
