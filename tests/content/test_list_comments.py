"""ListComments: a thread's comments, oldest first, in keyset pages bound to their post."""

from __future__ import annotations

import asyncio
import uuid

import grpc

from daira.content.v1 import content_pb2

from .comment_calls import listed
from .conftest import create_comment, create_post, every_page

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_list_comments_lists_top_level_comments_oldest_first(alice, bob, stub):
    post = await create_post(stub, alice)
    first = await create_comment(stub, bob, post.id)
    second = await create_comment(stub, alice, post.id)
    await create_comment(stub, alice, post.id, parent_id=first.id)

    assert await listed(stub, alice, post.id) == [first.id, second.id]


async def test_list_comments_lists_replies_under_their_parent(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, bob, post.id)
    other = await create_comment(stub, bob, post.id)
    replies = [await create_comment(stub, alice, post.id, parent_id=parent.id) for _ in range(3)]
    await create_comment(stub, alice, post.id, parent_id=other.id)

    assert await listed(stub, alice, post.id, parent.id) == [r.id for r in replies]


async def test_list_comments_pages_have_no_repeats_or_gaps(alice, bob, stub):
    post = await create_post(stub, alice)
    created = [(await create_comment(stub, bob, post.id)).id for _ in range(7)]
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=3)

    pages = await every_page(stub.ListComments, request, alice.auth, "comments")

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [c.id for page in pages for c in page] == created


async def test_list_comments_keeps_its_place_when_comments_arrive_between_pages(alice, bob, stub):
    post = await create_post(stub, alice)
    created = [(await create_comment(stub, bob, post.id)).id for _ in range(4)]
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=2)
    first = await stub.ListComments(request, metadata=alice.auth)
    late = await create_comment(stub, bob, post.id)

    request.page_token = first.next_page_token
    rest = await every_page(stub.ListComments, request, alice.auth, "comments")

    seen = [c.id for c in first.comments] + [c.id for page in rest for c in page]
    assert seen == [*created, late.id]


async def test_list_comments_on_an_unknown_post_is_not_found(alice, stub, rejected):
    request = content_pb2.ListCommentsRequest(post_id=str(uuid.uuid4()))

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == NOT_FOUND


async def test_list_comments_with_a_negative_page_size_is_invalid(alice, stub, rejected):
    post = await create_post(stub, alice)
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=-1)

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_size"]


async def test_list_comments_with_a_garbage_page_token_is_invalid(alice, stub, rejected):
    post = await create_post(stub, alice)
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_token="garbage!")

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]


async def test_list_comments_refuses_a_page_token_of_another_post(alice, bob, stub, rejected):
    post, other = await create_post(stub, alice), await create_post(stub, alice)
    for _ in range(2):
        await create_comment(stub, bob, post.id)
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=1)
    token = (await stub.ListComments(request, metadata=alice.auth)).next_page_token

    failure = await rejected(
        stub.ListComments(
            content_pb2.ListCommentsRequest(post_id=other.id, page_size=1, page_token=token),
            metadata=alice.auth,
        )
    )

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]


async def test_list_comments_pages_comments_made_at_once_without_repeats_or_gaps(alice, bob, stub):
    post = await create_post(stub, alice)
    made = await asyncio.gather(*(create_comment(stub, bob, post.id) for _ in range(50)))
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=7)

    pages = await every_page(stub.ListComments, request, alice.auth, "comments")

    paged = [c for page in pages for c in page]
    assert sorted(c.id for c in paged) == sorted(c.id for c in made)
    keys = [(c.create_time.ToNanoseconds(), c.id) for c in paged]
    assert keys == sorted(keys)


async def test_list_comments_of_a_post_the_caller_may_not_see_is_not_found(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)
    await create_comment(stub, alice, post.id)
    request = content_pb2.ListCommentsRequest(post_id=post.id)

    failure = await rejected(stub.ListComments(request, metadata=bob.auth))

    assert failure.code == NOT_FOUND


async def test_list_replies_of_an_unknown_comment_is_not_found(alice, stub, rejected):
    post = await create_post(stub, alice)
    request = content_pb2.ListCommentsRequest(post_id=post.id, parent_id=str(uuid.uuid4()))

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == NOT_FOUND
