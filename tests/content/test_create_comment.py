"""CreateComment: the comment made once per request id, and what it refuses."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .comment_calls import listed
from .conftest import create_comment, create_post, get_post, new_request_id

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED


async def test_create_comment_returns_the_comment(alice, bob, stub):
    post = await create_post(stub, alice)

    comment = await create_comment(stub, bob, post.id, "nice post")

    assert comment.id
    assert (comment.post_id, comment.author_id, comment.text) == (post.id, bob.id, "nice post")
    assert comment.parent_id == ""
    assert comment.replies_count == 0
    assert comment.moderation_state == content_pb2.MODERATION_STATE_VISIBLE
    assert comment.create_time.seconds > 0


async def test_create_comment_is_idempotent_on_request_id(alice, bob, stub):
    post = await create_post(stub, alice)
    request_id = new_request_id()

    first = await create_comment(stub, bob, post.id, "once", request_id=request_id)
    again = await create_comment(stub, bob, post.id, "once", request_id=request_id)

    assert again.id == first.id
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_create_comment_reusing_a_request_id_with_other_text_is_already_exists(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice)
    request_id = new_request_id()
    await create_comment(stub, bob, post.id, "first", request_id=request_id)

    failure = await rejected(create_comment(stub, bob, post.id, "second", request_id=request_id))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_create_comment_accepts_2000_characters(alice, stub):
    post = await create_post(stub, alice)

    comment = await create_comment(stub, alice, post.id, "ü" * 2000)

    assert len(comment.text) == 2000


@pytest.mark.parametrize("text", [" ", "x" * 2001, "nul\x00"])
async def test_create_comment_refuses_bad_text_and_writes_nothing(alice, stub, rejected, text):
    post = await create_post(stub, alice)
    request = content_pb2.CreateCommentRequest(
        post_id=post.id, text=text, request_id=new_request_id()
    )

    failure = await rejected(stub.CreateComment(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["text"]
    assert (await get_post(stub, alice, post.id)).comments_count == 0
    assert await listed(stub, alice, post.id) == []


async def test_create_comment_on_an_unknown_post_is_not_found(alice, stub, rejected):
    failure = await rejected(create_comment(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_create_comment_with_a_malformed_post_id_is_invalid(alice, stub, rejected):
    failure = await rejected(create_comment(stub, alice, "not-a-uuid"))

    assert failure.code == INVALID
    assert failure.fields == ["post_id"]


async def test_create_comment_on_a_post_the_caller_may_not_see_is_refused(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)

    failure = await rejected(create_comment(stub, bob, post.id))

    assert failure.code in (NOT_FOUND, DENIED)
    assert (await get_post(stub, alice, post.id)).comments_count == 0


async def test_create_reply_to_an_unknown_parent_is_refused(alice, stub, rejected):
    post = await create_post(stub, alice)

    failure = await rejected(create_comment(stub, alice, post.id, parent_id=str(uuid.uuid4())))

    assert failure.code in (NOT_FOUND, INVALID)
    assert (await get_post(stub, alice, post.id)).comments_count == 0


async def test_create_reply_to_a_comment_of_another_post_is_refused(alice, stub, rejected):
    post, other = await create_post(stub, alice), await create_post(stub, alice)
    elsewhere = await create_comment(stub, alice, other.id)

    failure = await rejected(create_comment(stub, alice, post.id, parent_id=elsewhere.id))

    assert failure.code in (NOT_FOUND, INVALID)
    assert (await get_post(stub, alice, post.id)).comments_count == 0
