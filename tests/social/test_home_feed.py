"""GetHomeFeed: the posts of the accounts the caller follows, and their own, newest first,
kept by fan-out on write (and merged in at read time for celebrities), served from the
database when Redis is down. How feeds are kept and rebuilt: test_home_feed_rebuild."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import pytest
from redis.asyncio import Redis

from daira.content.v1 import content_pb2 as cpb
from daira.content.v1 import content_pb2_grpc
from daira.social.v1 import social_pb2 as pb
from services.content.feed_store import (
    CELEBRITIES,
    feed_key,
    recent_key,
)

from .conftest import (
    CELEBRITY_FOLLOWERS,
    content_service,
    create_post,
    follow,
    hide_post,
    open_channel,
)
from .home_feeds import celebrity_with_fans, feed, feed_ids, feed_once


async def test_a_feed_shows_the_followed_accounts_posts_newest_first(
    stub, content_stub, alice, bob, carol
):
    await follow(stub, alice, bob)
    await follow(stub, alice, carol)
    assert await feed_ids(content_stub, alice) == []  # built, empty

    first = await create_post(content_stub, bob)
    second = await create_post(content_stub, carol)

    assert await feed_once(content_stub, alice, [second.id, first.id]) == [second.id, first.id]


async def test_a_feed_holds_the_readers_own_posts(content_stub, alice):
    assert await feed_ids(content_stub, alice) == []

    own = await create_post(content_stub, alice, visibility=cpb.VISIBILITY_PRIVATE)

    assert await feed_once(content_stub, alice, [own.id]) == [own.id]


async def test_muting_an_account_takes_its_posts_out(stub, content_stub, alice, bob, carol):
    await follow(stub, alice, bob)
    await follow(stub, alice, carol)
    kept = await create_post(content_stub, bob)
    muted = await create_post(content_stub, carol)
    assert await feed_once(content_stub, alice, [muted.id, kept.id]) == [muted.id, kept.id]

    await stub.Mute(pb.MuteRequest(user_id=carol.id), metadata=alice.auth)

    assert await feed_ids(content_stub, alice) == [kept.id]


async def test_unfollowing_takes_the_accounts_posts_out(stub, content_stub, alice, bob):
    await follow(stub, alice, bob)
    post = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [post.id]) == [post.id]

    await stub.Unfollow(pb.UnfollowRequest(user_id=bob.id), metadata=alice.auth)

    assert await feed_ids(content_stub, alice) == []


async def test_a_deleted_post_leaves_the_feed(stub, content_stub, alice, bob):
    await follow(stub, alice, bob)
    post = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [post.id]) == [post.id]

    await content_stub.DeletePost(cpb.DeletePostRequest(id=post.id), metadata=bob.auth)

    assert await feed_ids(content_stub, alice) == []


async def test_a_post_hidden_by_moderation_leaves_the_feed(
    stub, content_stub, service_auth, alice, bob
):
    await follow(stub, alice, bob)
    post = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [post.id]) == [post.id]

    await hide_post(content_stub, service_auth, post.id)

    assert await feed_ids(content_stub, alice) == []


async def test_a_follow_brings_the_followees_recent_posts_in(stub, content_stub, alice, bob):
    older = await create_post(content_stub, bob)
    newer = await create_post(content_stub, bob)
    assert await feed_ids(content_stub, alice) == []

    await follow(stub, alice, bob)

    assert await feed_once(content_stub, alice, [newer.id, older.id]) == [newer.id, older.id]


async def test_a_followers_only_post_reaches_followers_only(stub, content_stub, alice, bob, carol):
    await follow(stub, alice, bob)
    assert await feed_ids(content_stub, carol) == []

    post = await create_post(content_stub, bob, visibility=cpb.VISIBILITY_FOLLOWERS)

    assert await feed_once(content_stub, alice, [post.id]) == [post.id]
    assert await feed_ids(content_stub, carol) == []


async def test_a_celebritys_post_reaches_every_follower(
    stub, content_stub, redis_url, accounts, alice
):
    fans = [await accounts.create() for _ in range(CELEBRITY_FOLLOWERS + 2)]
    for fan in fans:
        await follow(stub, fan, alice)
        assert await feed_ids(content_stub, fan) == []

    post = await create_post(content_stub, alice)

    for fan in fans:
        assert await feed_once(content_stub, fan, [post.id]) == [post.id]
    async with Redis.from_url(redis_url) as redis:
        assert await redis.sismember(CELEBRITIES, alice.id)  # merged at read, not fanned out


async def test_a_celebritys_newest_posts_are_kept_once_for_all_followers(
    stub, content_stub, redis_url, accounts, alice
):
    fans = await celebrity_with_fans(stub, content_stub, accounts, alice)
    first = await create_post(content_stub, alice)
    assert await feed_once(content_stub, fans[0], [first.id]) == [first.id]

    second = await create_post(content_stub, alice)

    async with Redis.from_url(redis_url) as redis:
        assert await redis.zscore(recent_key(alice.id), first.id) is not None
        assert await redis.zcard(feed_key(fans[0].id)) == 1  # the built marker alone
    for fan in fans:
        assert await feed_once(content_stub, fan, [second.id, first.id]) == [second.id, first.id]


async def test_a_celebritys_deleted_post_leaves_their_kept_posts(
    stub, content_stub, redis_url, accounts, alice
):
    fans = await celebrity_with_fans(stub, content_stub, accounts, alice)
    post = await create_post(content_stub, alice)
    assert await feed_once(content_stub, fans[0], [post.id]) == [post.id]

    await content_stub.DeletePost(cpb.DeletePostRequest(id=post.id), metadata=alice.auth)

    async with Redis.from_url(redis_url) as redis:
        deadline = time.monotonic() + 10
        while await redis.zscore(recent_key(alice.id), post.id) is not None:
            assert time.monotonic() < deadline, "the deleted post stayed among the kept ones"
            await asyncio.sleep(0.02)
    assert await feed_ids(content_stub, fans[0]) == []


async def test_pages_follow_on_where_the_last_ended(stub, content_stub, alice, bob):
    await follow(stub, alice, bob)
    posts = [await create_post(content_stub, bob) for _ in range(5)]
    expected = [post.id for post in reversed(posts)]
    assert await feed_once(content_stub, alice, expected) == expected

    pages, token = [], ""
    while True:
        reply = await feed(content_stub, alice, page_size=2, page_token=token)
        pages.append([post.id for post in reply.posts])
        token = reply.next_page_token
        if not token:
            break

    assert [i for page in pages for i in page] == expected
    assert [len(page) for page in pages][:2] == [2, 2]


async def test_a_page_is_filled_past_many_entries_whose_posts_are_gone(
    stub, content_stub, redis_url, alice, bob
):
    await follow(stub, alice, bob)
    posts = [await create_post(content_stub, bob) for _ in range(3)]
    expected = [post.id for post in reversed(posts)]
    assert await feed_once(content_stub, alice, expected) == expected
    newer = int(time.time() * 1_000_000) + 1_000_000
    gone = {str(uuid.uuid4()): newer + n for n in range(20)}  # as before their clean-up
    async with Redis.from_url(redis_url) as redis:
        await redis.zadd(feed_key(alice.id), gone)

    reply = await feed(content_stub, alice, page_size=3)

    assert [post.id for post in reply.posts] == expected


async def test_a_page_names_its_authors_once(stub, content_stub, alice, bob):
    await follow(stub, alice, bob)
    posts = [await create_post(content_stub, bob) for _ in range(2)]
    expected = [post.id for post in reversed(posts)]
    assert await feed_once(content_stub, alice, expected) == expected

    reply = await feed(content_stub, alice)

    assert [(a.user_id, a.username) for a in reply.authors] == [(bob.id, bob.username)]


@pytest.mark.parametrize(
    ("page_size", "page_token"), [(-1, ""), (20, "not-a-token")], ids=["size", "token"]
)
async def test_bad_paging_is_invalid_argument(content_stub, rejected, alice, page_size, page_token):
    failure = await rejected(feed(content_stub, alice, page_size, page_token))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["page_size" if page_size < 0 else "page_token"]


async def test_a_service_has_no_home_feed(content_stub, rejected, service_auth):
    request = cpb.GetHomeFeedRequest()
    failure = await rejected(content_stub.GetHomeFeed(request, metadata=service_auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_with_redis_down_the_feed_comes_from_the_database(
    stub, content_stub, content_db_url, social_server, users_server, alice, bob
):
    await follow(stub, alice, bob)
    post = await create_post(content_stub, bob)

    async with content_service(
        content_db_url,
        "redis://127.0.0.1:1/0",
        f"127.0.0.1:{users_server.port}",
        social_address=f"127.0.0.1:{social_server.port}",
    ) as no_redis:
        channel = open_channel(no_redis.port)
        ids = await feed_ids(content_pb2_grpc.ContentServiceStub(channel), alice)
        await channel.close()

    assert ids == [post.id]
