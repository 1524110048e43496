"""Comment counters: a post's comments and a comment's replies counted exactly, under
parallel creates, deletes and retries too."""

from __future__ import annotations

import asyncio

from daira.content.v1 import content_pb2

from .comment_calls import delete, listed
from .conftest import create_comment, create_post, get_post, new_request_id


async def test_create_comment_counts_on_the_post(alice, bob, stub):
    post = await create_post(stub, alice)

    await create_comment(stub, bob, post.id)
    await create_comment(stub, alice, post.id)

    assert (await get_post(stub, alice, post.id)).comments_count == 2


async def test_create_reply_counts_on_its_parent(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, bob, post.id)

    reply = await create_comment(stub, alice, post.id, "a reply", parent_id=parent.id)

    assert reply.parent_id == parent.id
    replies = await stub.ListComments(
        content_pb2.ListCommentsRequest(post_id=post.id), metadata=alice.auth
    )
    assert [(c.id, c.replies_count) for c in replies.comments] == [(parent.id, 1)]


async def test_create_comment_200_in_parallel_counts_exactly_200(alice, bob, stub):
    post = await create_post(stub, alice)

    comments = await asyncio.gather(*(create_comment(stub, bob, post.id) for _ in range(200)))

    assert len({c.id for c in comments}) == 200
    assert (await get_post(stub, alice, post.id)).comments_count == 200


async def test_comments_count_stays_exact_under_parallel_creates_and_deletes(alice, bob, stub):
    post = await create_post(stub, alice)
    doomed = [await create_comment(stub, bob, post.id) for _ in range(25)]

    await asyncio.gather(
        *(delete(stub, bob, c.id) for c in doomed),
        *(create_comment(stub, bob, post.id) for _ in range(40)),
    )

    assert (await get_post(stub, alice, post.id)).comments_count == 40
    assert len(await listed(stub, alice, post.id)) == 40


async def test_create_comment_parallel_retries_of_one_request_count_once(alice, bob, stub):
    post = await create_post(stub, alice)
    request_id = new_request_id()

    made = await asyncio.gather(
        *(create_comment(stub, bob, post.id, "retried", request_id=request_id) for _ in range(10))
    )

    assert len({c.id for c in made}) == 1
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_create_comment_shows_in_the_count_of_a_post_read_before(alice, bob, stub):
    post = await create_post(stub, alice)
    assert (await get_post(stub, bob, post.id)).comments_count == 0

    await create_comment(stub, bob, post.id)

    assert (await get_post(stub, bob, post.id)).comments_count == 1
