"""GetComment: one comment as the caller may see it (moderated ones for staff only)."""

from __future__ import annotations

import grpc
import pytest

from daira.content.v1 import content_pb2

from .comment_calls import delete
from .conftest import create_comment, create_post

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def get_comment(stub, account, comment_id: str):
    request = content_pb2.GetCommentRequest(id=comment_id)
    return stub.GetComment(request, metadata=account.auth)


async def hide(stub, service_auth, comment_id: str, state: int) -> None:
    request = content_pb2.SetContentVisibilityRequest(
        target_kind=content_pb2.TARGET_KIND_COMMENT, target_id=comment_id, state=state
    )
    await stub.SetContentVisibility(request, metadata=service_auth)


async def test_get_comment_returns_the_comment(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, alice, post.id)
    reply = await create_comment(stub, bob, post.id, "a reply", parent_id=parent.id)

    found = (await get_comment(stub, alice, reply.id)).comment

    assert found == reply


@pytest.mark.parametrize(
    "state", [content_pb2.MODERATION_STATE_HIDDEN, content_pb2.MODERATION_STATE_REMOVED]
)
async def test_get_comment_of_a_moderated_comment_is_not_found(
    alice, bob, stub, rejected, service_auth, state
):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    await hide(stub, service_auth, comment.id, state)

    failure = await rejected(get_comment(stub, bob, comment.id))

    assert failure.code == NOT_FOUND
    assert failure.reasons == ["COMMENT_NOT_FOUND"]


async def test_get_comment_shows_a_hidden_comment_to_moderators(
    alice, bob, moderator, stub, service_auth
):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    await hide(stub, service_auth, comment.id, content_pb2.MODERATION_STATE_HIDDEN)

    found = (await get_comment(stub, moderator, comment.id)).comment

    assert found.moderation_state == content_pb2.MODERATION_STATE_HIDDEN


async def test_get_comment_on_a_post_the_caller_may_not_see_is_not_found(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)
    comment = await create_comment(stub, alice, post.id)

    failure = await rejected(get_comment(stub, bob, comment.id))

    assert failure.code == NOT_FOUND
    assert failure.reasons == ["COMMENT_NOT_FOUND"]


async def test_get_comment_of_a_deleted_comment_is_not_found(alice, bob, stub, rejected):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    await delete(stub, bob, comment.id)

    failure = await rejected(get_comment(stub, bob, comment.id))

    assert failure.code == NOT_FOUND


async def test_get_comment_with_a_malformed_id_is_invalid(alice, stub, rejected):
    failure = await rejected(get_comment(stub, alice, "not-a-uuid"))

    assert failure.code == INVALID
    assert failure.fields == ["id"]
