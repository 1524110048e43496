"""The social service is unreachable: reads degrade, writes do not notice, neither fails."""

from __future__ import annotations

import time

from daira.content.v1 import content_pb2

from .conftest import (
    create_comment,
    create_post,
    get_post,
    hashtag_post_ids,
    unique_tag,
    user_post_ids,
)

# A read must not wait out a downstream timeout to learn that social is down.
DEGRADED_READ_SECONDS = 1.0


async def test_post_reactions_are_unavailable_and_empty(alice, bob, stub):
    post = await create_post(stub, alice)

    seen = await get_post(stub, bob, post.id)

    assert seen.HasField("reactions")
    assert seen.reactions.available is False
    assert dict(seen.reactions.counts) == {}


async def test_created_post_says_reactions_are_unavailable(alice, stub):
    post = await create_post(stub, alice)

    assert post.reactions.available is False


async def test_listings_still_answer_with_reactions_unavailable(alice, bob, stub):
    tag = unique_tag()
    post = await create_post(stub, alice, f"#{tag}")

    request = content_pb2.ListUserPostsRequest(user_id=alice.id)
    listed = (await stub.ListUserPosts(request, metadata=bob.auth)).posts
    assert [(p.id, p.reactions.available) for p in listed] == [(post.id, False)]
    assert await hashtag_post_ids(stub, bob, tag) == [post.id]


async def test_batch_get_posts_still_answers(alice, bob, stub):
    posts = [await create_post(stub, alice) for _ in range(3)]

    reply = await stub.BatchGetPosts(
        content_pb2.BatchGetPostsRequest(ids=[p.id for p in posts]), metadata=bob.auth
    )

    assert [p.id for p in reply.posts] == [p.id for p in posts]
    assert not any(p.reactions.available for p in reply.posts)


async def test_a_non_follower_sees_only_public_posts_without_an_error(alice, bob, stub):
    public = await create_post(stub, alice)
    await create_post(stub, alice, visibility=content_pb2.VISIBILITY_FOLLOWERS)

    assert await user_post_ids(stub, bob, alice.id) == [public.id]


async def test_reads_do_not_wait_for_the_unreachable_service(alice, bob, stub):
    post = await create_post(stub, alice)

    started = time.monotonic()
    await get_post(stub, bob, post.id)
    await user_post_ids(stub, bob, alice.id)
    elapsed = time.monotonic() - started

    assert elapsed < DEGRADED_READ_SECONDS


async def test_writes_that_notify_do_not_wait_for_the_unreachable_service(alice, bob, stub):
    started = time.monotonic()
    post = await create_post(stub, alice, f"hello @{bob.username}")
    await create_comment(stub, bob, post.id)
    elapsed = time.monotonic() - started

    assert [m.user_id for m in post.mentions] == [bob.id]
    assert (await get_post(stub, alice, post.id)).comments_count == 1
    assert elapsed < DEGRADED_READ_SECONDS
