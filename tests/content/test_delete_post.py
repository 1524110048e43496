"""DeletePost: the author or a moderator; a soft delete that every read respects."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import (
    create_comment,
    create_post,
    get_post,
    hashtag_post_ids,
    trending_ids,
    unique_tag,
    user_post_ids,
)

NOT_FOUND = grpc.StatusCode.NOT_FOUND


def delete(stub, account, post_id: str):
    return stub.DeletePost(content_pb2.DeletePostRequest(id=post_id), metadata=account.auth)


async def test_delete_post_by_its_author_makes_get_post_not_found(alice, bob, stub, rejected):
    post = await create_post(stub, alice)

    await delete(stub, alice, post.id)

    assert (await rejected(get_post(stub, alice, post.id))).code == NOT_FOUND
    assert (await rejected(get_post(stub, bob, post.id))).code == NOT_FOUND


async def test_delete_post_removes_it_from_the_authors_timeline(alice, bob, stub):
    kept, deleted = await create_post(stub, alice), await create_post(stub, alice)

    await delete(stub, alice, deleted.id)

    assert await user_post_ids(stub, alice, alice.id) == [kept.id]
    assert await user_post_ids(stub, bob, alice.id) == [kept.id]


async def test_delete_post_removes_it_from_hashtag_search(alice, stub):
    tag = unique_tag()
    kept = await create_post(stub, alice, f"#{tag} kept")
    deleted = await create_post(stub, alice, f"#{tag} deleted")

    await delete(stub, alice, deleted.id)

    assert await hashtag_post_ids(stub, alice, tag) == [kept.id]


async def test_delete_post_removes_it_from_trending(alice, bob, stub):
    post = await create_post(stub, alice)
    await create_comment(stub, bob, post.id)
    assert post.id in await trending_ids(stub, bob)

    await delete(stub, alice, post.id)

    assert post.id not in await trending_ids(stub, bob)


async def test_delete_post_lists_it_as_missing_in_batch_get(alice, stub):
    post = await create_post(stub, alice)

    await delete(stub, alice, post.id)

    request = content_pb2.BatchGetPostsRequest(ids=[post.id])
    reply = await stub.BatchGetPosts(request, metadata=alice.auth)
    assert (list(reply.posts), list(reply.missing_ids)) == ([], [post.id])


async def test_delete_post_keeps_the_row_as_a_soft_delete(alice, stub, content_db):
    post = await create_post(stub, alice)

    await delete(stub, alice, post.id)

    rows = await content_db.sql("SELECT deleted_at IS NOT NULL FROM posts WHERE id = %s", post.id)
    assert rows == [(True,)]


@pytest.mark.parametrize("role", ["moderator", "admin"])
async def test_delete_post_by_staff_is_allowed(alice, accounts, stub, rejected, role):
    staff = await accounts.create(role=role)
    post = await create_post(stub, alice)

    await delete(stub, staff, post.id)

    assert (await rejected(get_post(stub, alice, post.id))).code == NOT_FOUND


async def test_delete_post_by_another_user_is_permission_denied_and_keeps_it(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice)

    failure = await rejected(delete(stub, bob, post.id))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert (await get_post(stub, alice, post.id)).id == post.id


async def test_delete_post_of_an_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(delete(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_delete_post_with_a_malformed_id_is_invalid(alice, stub, rejected):
    failure = await rejected(delete(stub, alice, "not-a-uuid"))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["id"]


async def test_update_post_of_a_deleted_post_is_not_found(alice, stub, rejected):
    post = await create_post(stub, alice)
    await delete(stub, alice, post.id)
    request = content_pb2.UpdatePostRequest(
        post=content_pb2.Post(id=post.id, text="revived?", etag=post.etag)
    )
    request.update_mask.paths.append("text")

    failure = await rejected(stub.UpdatePost(request, metadata=alice.auth))

    assert failure.code == NOT_FOUND


async def test_comment_on_a_deleted_post_is_not_found(alice, bob, stub, rejected):
    post = await create_post(stub, alice)
    await delete(stub, alice, post.id)

    failure = await rejected(create_comment(stub, bob, post.id))

    assert failure.code == NOT_FOUND
