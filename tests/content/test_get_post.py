"""GetPost and BatchGetPosts: field masks, who sees what, missing and malformed ids."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from daira.content.v1 import content_pb2

from .conftest import create_post, get_post

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
FOLLOWERS = content_pb2.VISIBILITY_FOLLOWERS
PRIVATE = content_pb2.VISIBILITY_PRIVATE


def batch(stub, account, ids: list[str], paths: list[str] | None = None):
    request = content_pb2.BatchGetPostsRequest(ids=ids)
    if paths is not None:
        request.read_mask.CopyFrom(field_mask_pb2.FieldMask(paths=paths))
    return stub.BatchGetPosts(request, metadata=account.auth)


async def test_get_post_of_someone_elses_public_post(alice, bob, stub):
    post = await create_post(stub, alice, "for everyone")

    seen = await get_post(stub, bob, post.id)

    assert (seen.id, seen.author_id, seen.text) == (post.id, alice.id, "for everyone")


async def test_get_post_read_mask_returns_only_the_named_fields(alice, stub):
    post = await create_post(stub, alice, "masked #tag")
    request = content_pb2.GetPostRequest(
        id=post.id, read_mask=field_mask_pb2.FieldMask(paths=["id", "text"])
    )

    seen = (await stub.GetPost(request, metadata=alice.auth)).post

    assert seen == content_pb2.Post(id=post.id, text="masked #tag")


async def test_get_post_with_unknown_read_mask_path_is_invalid(alice, stub, rejected):
    post = await create_post(stub, alice)
    request = content_pb2.GetPostRequest(
        id=post.id, read_mask=field_mask_pb2.FieldMask(paths=["text", "request_digest"])
    )

    failure = await rejected(stub.GetPost(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["read_mask"]


async def test_get_post_of_an_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(get_post(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


@pytest.mark.parametrize("bad_id", ["", "not-a-uuid", "1234"])
async def test_get_post_with_a_malformed_id_is_invalid(alice, stub, rejected, bad_id):
    failure = await rejected(get_post(stub, alice, bad_id))

    assert failure.code == INVALID
    assert failure.fields == ["id"]


async def test_get_post_of_a_private_post_is_hidden_from_others(alice, bob, stub, rejected):
    post = await create_post(stub, alice, visibility=PRIVATE)

    failure = await rejected(get_post(stub, bob, post.id))

    assert failure.code in (NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)


async def test_get_post_of_a_followers_post_is_hidden_from_a_non_follower(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, visibility=FOLLOWERS)

    failure = await rejected(get_post(stub, bob, post.id))

    assert failure.code in (NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)


@pytest.mark.parametrize("visibility", [FOLLOWERS, PRIVATE])
async def test_get_post_shows_the_author_their_own_restricted_post(alice, stub, visibility):
    post = await create_post(stub, alice, visibility=visibility)

    assert (await get_post(stub, alice, post.id)).id == post.id


@pytest.mark.parametrize("visibility", [FOLLOWERS, PRIVATE])
async def test_get_post_shows_a_service_any_live_post(alice, stub, service_auth, visibility):
    post = await create_post(stub, alice, visibility=visibility)
    request = content_pb2.GetPostRequest(
        id=post.id, read_mask=field_mask_pb2.FieldMask(paths=["author_id", "visibility"])
    )

    seen = (await stub.GetPost(request, metadata=service_auth)).post

    assert (seen.author_id, seen.visibility) == (alice.id, visibility)


async def test_batch_get_posts_answers_in_request_order_and_lists_missing_ids(alice, bob, stub):
    first, second = await create_post(stub, alice), await create_post(stub, bob)
    unknown = str(uuid.uuid4())

    reply = await batch(stub, alice, [second.id, unknown, first.id])

    assert [p.id for p in reply.posts] == [second.id, first.id]
    assert list(reply.missing_ids) == [unknown]


async def test_batch_get_posts_lists_posts_the_caller_may_not_see_as_missing(alice, bob, stub):
    public = await create_post(stub, alice)
    private = await create_post(stub, alice, visibility=PRIVATE)
    followers = await create_post(stub, alice, visibility=FOLLOWERS)

    reply = await batch(stub, bob, [public.id, private.id, followers.id])

    assert [p.id for p in reply.posts] == [public.id]
    assert sorted(reply.missing_ids) == sorted([private.id, followers.id])


async def test_batch_get_posts_applies_the_read_mask(alice, stub):
    post = await create_post(stub, alice, "batch masked")

    reply = await batch(stub, alice, [post.id], ["id", "author_id"])

    assert list(reply.posts) == [content_pb2.Post(id=post.id, author_id=alice.id)]


async def test_batch_get_posts_accepts_100_ids(alice, stub):
    post = await create_post(stub, alice)
    ids = [post.id] + [str(uuid.uuid4()) for _ in range(99)]

    reply = await batch(stub, alice, ids)

    assert [p.id for p in reply.posts] == [post.id]
    assert len(reply.missing_ids) == 99


async def test_batch_get_posts_rejects_more_than_100_ids(alice, stub, rejected):
    failure = await rejected(batch(stub, alice, [str(uuid.uuid4()) for _ in range(101)]))

    assert failure.code == INVALID
    assert failure.fields == ["ids"]


async def test_batch_get_posts_with_a_malformed_id_is_invalid(alice, stub, rejected):
    post = await create_post(stub, alice)

    failure = await rejected(batch(stub, alice, [post.id, "not-a-uuid"]))

    assert failure.code == INVALID
    assert failure.fields[0].startswith("ids")
