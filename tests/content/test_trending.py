"""ListTrending: public posts of a window ranked by time-decayed engagement, keyset pages."""

from __future__ import annotations

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import create_comment, create_post, every_page, trending_ids

HOUR = content_pb2.TRENDING_WINDOW_HOUR
DAY = content_pb2.TRENDING_WINDOW_DAY
WEEK = content_pb2.TRENDING_WINDOW_WEEK


async def backdate(content_db, post_id: str, age: str) -> None:
    await content_db.sql(
        "UPDATE posts SET created_at = now() - %s::interval WHERE id = %s", age, post_id
    )


async def test_trending_ranks_a_post_with_more_comments_above_a_similar_one(alice, bob, stub):
    busy = await create_post(stub, alice)
    quiet = await create_post(stub, alice)
    await create_comment(stub, bob, quiet.id)
    for _ in range(3):
        await create_comment(stub, bob, busy.id)

    ranked = await trending_ids(stub, bob)

    assert ranked.index(busy.id) < ranked.index(quiet.id)


async def test_trending_ranks_the_newer_of_two_equally_engaging_posts_first(alice, bob, stub):
    older = await create_post(stub, alice)
    newer = await create_post(stub, alice)

    ranked = await trending_ids(stub, bob)

    assert ranked.index(newer.id) < ranked.index(older.id)


async def test_trending_follows_a_comment_deleted_again(alice, bob, stub):
    first = await create_post(stub, alice)
    second = await create_post(stub, alice)
    comment = await create_comment(stub, bob, first.id)
    ranked = await trending_ids(stub, bob)
    assert ranked.index(first.id) < ranked.index(second.id)

    await stub.DeleteComment(content_pb2.DeleteCommentRequest(id=comment.id), metadata=bob.auth)

    ranked = await trending_ids(stub, bob)
    assert ranked.index(second.id) < ranked.index(first.id)


@pytest.mark.parametrize(
    "visibility", [content_pb2.VISIBILITY_FOLLOWERS, content_pb2.VISIBILITY_PRIVATE]
)
async def test_trending_lists_only_public_posts(alice, bob, stub, visibility):
    post = await create_post(stub, alice, visibility=visibility)
    await create_comment(stub, alice, post.id)

    assert post.id not in await trending_ids(stub, alice)


async def test_trending_without_a_window_is_the_day(alice, bob, stub, content_db):
    today = await create_post(stub, alice)
    two_days_ago = await create_post(stub, alice)
    await backdate(content_db, two_days_ago.id, "2 days")

    ranked = await trending_ids(stub, bob)

    assert today.id in ranked
    assert two_days_ago.id not in ranked
    assert ranked == await trending_ids(stub, bob, DAY)


@pytest.mark.parametrize(
    ("age", "windows"),
    [
        ("10 minutes", {HOUR, DAY, WEEK}),
        ("2 hours", {DAY, WEEK}),
        ("3 days", {WEEK}),
        ("8 days", set()),
    ],
)
async def test_trending_window_holds_only_posts_that_young(
    alice, bob, stub, content_db, age, windows
):
    post = await create_post(stub, alice)
    await backdate(content_db, post.id, age)

    listed = {
        window for window in (HOUR, DAY, WEEK) if post.id in await trending_ids(stub, bob, window)
    }

    assert listed == windows


async def test_trending_pages_have_no_repeats_or_gaps(alice, bob, stub):
    for _ in range(5):
        post = await create_post(stub, alice)
        await create_comment(stub, bob, post.id)
    whole = await trending_ids(stub, bob)
    request = content_pb2.ListTrendingRequest(window=DAY, page_size=7)

    pages = await every_page(stub.ListTrending, request, bob.auth, "posts")

    paged = [p.id for page in pages for p in page]
    assert len(paged) == len(set(paged))
    assert paged == whole
    assert all(len(page) == 7 for page in pages[:-1])


async def test_trending_with_a_negative_page_size_is_invalid(alice, stub, rejected):
    request = content_pb2.ListTrendingRequest(page_size=-1)

    failure = await rejected(stub.ListTrending(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["page_size"]


async def test_trending_refuses_an_unknown_window(alice, stub, rejected):
    request = content_pb2.ListTrendingRequest(window=17)

    failure = await rejected(stub.ListTrending(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["window"]


async def test_trending_refuses_a_page_token_of_another_window(alice, bob, stub, rejected):
    for _ in range(2):
        await create_post(stub, alice)
    first = content_pb2.ListTrendingRequest(window=DAY, page_size=1)
    token = (await stub.ListTrending(first, metadata=bob.auth)).next_page_token

    other = content_pb2.ListTrendingRequest(window=WEEK, page_size=1, page_token=token)
    failure = await rejected(stub.ListTrending(other, metadata=bob.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["page_token"]
