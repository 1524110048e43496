"""DeleteComment: who may delete, the thread below going with it, counts kept exact."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .comment_calls import delete, listed
from .conftest import create_comment, create_post, get_post

NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("who", ["comment author", "post author", "moderator"])
async def test_delete_comment_is_allowed_to(alice, bob, moderator, stub, who):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    deleter = {"comment author": bob, "post author": alice, "moderator": moderator}[who]

    await delete(stub, deleter, comment.id)

    assert await listed(stub, alice, post.id) == []
    assert (await get_post(stub, alice, post.id)).comments_count == 0


async def test_delete_comment_by_anyone_else_is_permission_denied(
    alice, bob, carol, stub, rejected
):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)

    failure = await rejected(delete(stub, carol, comment.id))

    assert failure.code == DENIED
    assert await listed(stub, alice, post.id) == [comment.id]
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_delete_comment_uncounts_it_on_its_parent(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, alice, post.id)
    reply = await create_comment(stub, bob, post.id, parent_id=parent.id)

    await delete(stub, bob, reply.id)

    request = content_pb2.ListCommentsRequest(post_id=post.id)
    top = (await stub.ListComments(request, metadata=alice.auth)).comments
    assert [(c.id, c.replies_count) for c in top] == [(parent.id, 0)]
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_delete_comment_of_an_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(delete(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_delete_comment_twice_is_not_found_and_counts_once(alice, bob, stub, rejected):
    post = await create_post(stub, alice)
    kept = await create_comment(stub, bob, post.id)
    comment = await create_comment(stub, bob, post.id)
    await delete(stub, bob, comment.id)

    failure = await rejected(delete(stub, bob, comment.id))

    assert failure.code == NOT_FOUND
    assert (await get_post(stub, alice, post.id)).comments_count == 1
    assert await listed(stub, alice, post.id) == [kept.id]


async def test_delete_comment_takes_its_replies_with_it(alice, bob, stub):
    post = await create_post(stub, alice)
    kept = await create_comment(stub, alice, post.id)
    parent = await create_comment(stub, bob, post.id)
    reply = await create_comment(stub, alice, post.id, parent_id=parent.id)
    await create_comment(stub, bob, post.id, parent_id=reply.id)

    await delete(stub, bob, parent.id)

    assert await listed(stub, alice, post.id) == [kept.id]
    assert (await get_post(stub, alice, post.id)).comments_count == 1
