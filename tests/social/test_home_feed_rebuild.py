"""Home feeds kept in Redis: a feed being built gets what is published meanwhile, the
fan-out writes only the feeds of users who keep one (`content:feeds-active`), and a missing
feed, or one the fan-out may have passed by, is rebuilt whole on its next read."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC

from redis.asyncio import Redis

from services.content.feed_store import (
    ACTIVE,
    ACTIVE_SLACK_SECONDS,
    BUILT,
    SCRIPT_TIMELINES,
    FeedStore,
    celebrities_key,
    feed_key,
    score,
)

from .conftest import calls_to_social, create_post, follow
from .home_feeds import celebrity_with_fans, feed_ids, feed_once


async def test_a_post_published_while_a_feed_is_being_built_goes_into_it(
    stub, content_stub, redis_url, alice, bob
):
    await follow(stub, alice, bob)
    async with Redis.from_url(redis_url) as redis:
        store = FeedStore(redis, size=800, idle_seconds=3600)
        await store.begin_build(alice.id)

        post = await create_post(content_stub, bob)

        deadline = time.monotonic() + 10
        while await redis.zscore(feed_key(alice.id), post.id) is None:
            assert time.monotonic() < deadline, "the fan-out passed the feed being built by"
            await asyncio.sleep(0.02)
        assert await redis.zscore(feed_key(alice.id), BUILT) is None


async def test_a_fan_out_to_many_reaches_every_built_feed_and_starts_no_missing_one(redis_url):
    readers = [uuid.uuid4() for _ in range(2 * SCRIPT_TIMELINES + 1)]
    built = readers[::2]
    async with Redis.from_url(redis_url) as redis:
        store = FeedStore(redis, size=800, idle_seconds=3600)
        for reader in built:
            await store.build(reader, [], [])

        await store.add(readers, [(7, "a-post")])

        scores = [await redis.zscore(feed_key(reader), "a-post") for reader in readers]
        assert scores == [7 if reader in built else None for reader in readers]
        assert await redis.exists(*(feed_key(r) for r in readers if r not in built)) == 0


async def test_a_feed_whose_user_left_the_active_set_is_rebuilt_with_what_it_missed(
    stub, content_stub, redis_url, alice, bob, carol
):
    await follow(stub, alice, bob)
    await follow(stub, carol, bob)
    assert await feed_ids(content_stub, alice) == []
    assert await feed_ids(content_stub, carol) == []
    async with Redis.from_url(redis_url) as redis:
        await redis.zrem(ACTIVE, alice.id)

        post = await create_post(content_stub, bob)
        assert await feed_once(content_stub, carol, [post.id]) == [post.id]
        assert await redis.zscore(feed_key(alice.id), post.id) is None  # passed by

    assert await feed_ids(content_stub, alice) == [post.id]


async def test_users_idle_long_past_their_feeds_expiry_leave_the_active_set(redis_url):
    idle, recent = str(uuid.uuid4()), str(uuid.uuid4())
    async with Redis.from_url(redis_url) as redis:
        store = FeedStore(redis, size=800, idle_seconds=3600)
        long_ago = time.time() - 3600 - ACTIVE_SLACK_SECONDS - 1
        await redis.zadd(ACTIVE, {idle: long_ago, recent: time.time() - 3600})

        await store.kept([uuid.uuid4()])

        assert await redis.zscore(ACTIVE, idle) is None
        assert await redis.zscore(ACTIVE, recent) is not None


async def test_a_missing_feed_is_rebuilt_whole_on_the_next_read(
    stub, content_stub, redis_url, alice, bob, carol
):
    await follow(stub, alice, bob)
    await follow(stub, alice, carol)
    posts = [await create_post(content_stub, author) for author in (bob, carol, alice, bob)]
    expected = [post.id for post in reversed(posts)]
    assert await feed_once(content_stub, alice, expected) == expected

    async with Redis.from_url(redis_url) as redis:
        await redis.delete(feed_key(alice.id))

    assert await feed_ids(content_stub, alice) == expected


async def test_reads_that_find_a_feed_missing_together_rebuild_it_once(
    stub, content_stub, redis_url, alice, bob
):
    await follow(stub, alice, bob)
    post = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [post.id]) == [post.id]
    async with Redis.from_url(redis_url) as redis:
        await redis.delete(feed_key(alice.id))
    asked = calls_to_social("ListFollowingIds")

    pages = await asyncio.gather(*(feed_ids(content_stub, alice) for _ in range(8)))

    assert pages == [[post.id]] * 8
    assert calls_to_social("ListFollowingIds") - asked == 1


async def test_a_rebuilt_feed_scores_each_post_by_its_exact_creation_time(
    stub, content_stub, redis_url, alice, bob
):
    await follow(stub, alice, bob)
    post = await create_post(content_stub, bob)
    async with Redis.from_url(redis_url) as redis:
        await redis.delete(feed_key(alice.id))

        assert await feed_ids(content_stub, alice) == [post.id]

        created = post.create_time.ToDatetime(tzinfo=UTC)
        assert await redis.zscore(feed_key(alice.id), post.id) == score(created)


async def test_a_rebuilt_feed_merges_the_celebrities_it_follows(
    stub, content_stub, redis_url, accounts, alice
):
    fans = await celebrity_with_fans(stub, content_stub, accounts, alice)
    post = await create_post(content_stub, alice)
    assert await feed_once(content_stub, fans[0], [post.id]) == [post.id]
    async with Redis.from_url(redis_url) as redis:
        await redis.delete(feed_key(fans[0].id), celebrities_key(fans[0].id))

        assert await feed_ids(content_stub, fans[0]) == [post.id]

        assert await redis.smembers(celebrities_key(fans[0].id)) == {alice.id.encode()}
        assert await redis.zcard(feed_key(fans[0].id)) == 1  # the built marker alone


async def test_a_feed_being_built_when_a_followee_becomes_a_celebrity_merges_them(
    stub, content_stub, redis_url, accounts, alice
):
    fans = await celebrity_with_fans(stub, content_stub, accounts, alice)
    async with Redis.from_url(redis_url) as redis:
        await redis.delete(feed_key(fans[0].id))
        store = FeedStore(redis, size=800, idle_seconds=3600)
        await store.begin_build(fans[0].id)
        assert await store.celebrities_among([alice.id]) == set()  # not yet one

        await create_post(content_stub, alice)

        deadline = time.monotonic() + 10
        while not await redis.sismember(celebrities_key(fans[0].id), alice.id):
            assert time.monotonic() < deadline, "the feed being built was not told"
            await asyncio.sleep(0.02)
