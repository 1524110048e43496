"""ListUserPosts: a user's timeline newest first, keyset pages, visibility per caller.

The social service is unreachable in these tests, so nobody is known to follow anyone:
another user sees only PUBLIC posts, and the author sees all of theirs.
"""

from __future__ import annotations

import grpc

from daira.content.v1 import content_pb2

from .conftest import create_post, every_page, user_post_ids

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PUBLIC = content_pb2.VISIBILITY_PUBLIC
FOLLOWERS = content_pb2.VISIBILITY_FOLLOWERS
PRIVATE = content_pb2.VISIBILITY_PRIVATE


def list_request(user_id: str, page_size: int = 0, page_token: str = ""):
    return content_pb2.ListUserPostsRequest(
        user_id=user_id, page_size=page_size, page_token=page_token
    )


async def test_list_user_posts_is_newest_first(alice, bob, stub):
    created = [(await create_post(stub, alice)).id for _ in range(3)]

    assert await user_post_ids(stub, bob, alice.id) == created[::-1]


async def test_list_user_posts_lists_only_that_users_posts(alice, bob, stub):
    mine = await create_post(stub, alice)
    await create_post(stub, bob)

    assert await user_post_ids(stub, alice, alice.id) == [mine.id]


async def test_list_user_posts_pages_have_no_repeats_or_gaps(alice, stub):
    created = [(await create_post(stub, alice)).id for _ in range(7)]

    pages = await every_page(stub.ListUserPosts, list_request(alice.id, 3), alice.auth, "posts")

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [p.id for page in pages for p in page] == created[::-1]


async def test_list_user_posts_keeps_its_place_when_posts_arrive_between_pages(alice, stub):
    created = [(await create_post(stub, alice)).id for _ in range(4)]
    first = await stub.ListUserPosts(list_request(alice.id, 2), metadata=alice.auth)
    await create_post(stub, alice)

    rest = await every_page(
        stub.ListUserPosts,
        list_request(alice.id, 2, first.next_page_token),
        alice.auth,
        "posts",
    )

    seen = [p.id for p in first.posts] + [p.id for page in rest for p in page]
    assert seen == created[::-1]


async def test_list_user_posts_keeps_its_place_when_a_listed_post_is_deleted(alice, stub):
    created = [(await create_post(stub, alice)).id for _ in range(5)]
    first = await stub.ListUserPosts(list_request(alice.id, 2), metadata=alice.auth)
    await stub.DeletePost(content_pb2.DeletePostRequest(id=created[-1]), metadata=alice.auth)

    rest = await every_page(
        stub.ListUserPosts,
        list_request(alice.id, 2, first.next_page_token),
        alice.auth,
        "posts",
    )

    assert [p.id for page in rest for p in page] == created[2::-1]


async def test_list_user_posts_shows_another_user_only_public_posts(alice, bob, stub):
    public = await create_post(stub, alice, visibility=PUBLIC)
    await create_post(stub, alice, visibility=FOLLOWERS)
    await create_post(stub, alice, visibility=PRIVATE)

    assert await user_post_ids(stub, bob, alice.id) == [public.id]


async def test_list_user_posts_shows_the_author_every_visibility(alice, stub):
    created = [
        (await create_post(stub, alice, visibility=v)).id for v in (PUBLIC, FOLLOWERS, PRIVATE)
    ]

    assert await user_post_ids(stub, alice, alice.id) == created[::-1]


async def test_list_user_posts_of_a_user_without_posts_is_empty(alice, bob, stub):
    reply = await stub.ListUserPosts(list_request(bob.id), metadata=alice.auth)

    assert (list(reply.posts), reply.next_page_token) == ([], "")


async def test_list_user_posts_caps_the_page_size_at_100(alice, stub):
    reply = await stub.ListUserPosts(list_request(alice.id, 1000), metadata=alice.auth)

    assert len(reply.posts) <= 100


async def test_list_user_posts_with_a_negative_page_size_is_invalid(alice, stub, rejected):
    failure = await rejected(stub.ListUserPosts(list_request(alice.id, -1), metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_size"]


async def test_list_user_posts_with_a_malformed_user_id_is_invalid(alice, stub, rejected):
    failure = await rejected(stub.ListUserPosts(list_request("who?"), metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["user_id"]


async def test_list_user_posts_refuses_a_page_token_of_another_user(alice, bob, stub, rejected):
    for _ in range(2):
        await create_post(stub, alice)
    token = (
        await stub.ListUserPosts(list_request(alice.id, 1), metadata=alice.auth)
    ).next_page_token

    failure = await rejected(
        stub.ListUserPosts(list_request(bob.id, 1, token), metadata=alice.auth)
    )

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]
