"""Audiences: the fan-out sends an author's posts to their followers whose feed is kept,
found from social once and then kept up in Redis by the feeds built and the follows made
and ended since, so a post asks social for nobody's followers."""

from __future__ import annotations

import asyncio
import time
import uuid

from redis.asyncio import Redis

from daira.social.v1 import social_pb2 as pb
from services.content.feed_audience import AUDIENCE_SECONDS, Audiences, audience_key
from services.content.feed_store import ACTIVE, BUILT, FeedStore

from .conftest import calls_to_social, create_post, follow
from .home_feeds import feed_ids, feed_once


def _audiences(redis: Redis) -> Audiences:
    return Audiences(redis, FeedStore(redis, size=800, idle_seconds=3600).horizon)


async def _until(check, what: str, wait_seconds: float = 10.0) -> None:
    deadline = time.monotonic() + wait_seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def _readers(redis: Redis, author) -> set[str]:
    return {name.decode() for name in await redis.zrangebyscore(audience_key(author.id), 1, "+inf")}


async def test_an_authors_later_posts_reach_their_followers_without_asking_social(
    stub, content_stub, alice, bob
):
    await follow(stub, alice, bob)
    assert await feed_ids(content_stub, alice) == []
    first = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [first.id]) == [first.id]
    asked = calls_to_social("ListFollowerIds")

    second = await create_post(content_stub, bob)

    assert await feed_once(content_stub, alice, [second.id, first.id]) == [second.id, first.id]
    assert calls_to_social("ListFollowerIds") == asked


async def test_a_feed_built_after_its_followees_audience_was_found_gets_their_next_post(
    stub, content_stub, redis_url, alice, bob, carol
):
    await follow(stub, alice, bob)
    await follow(stub, carol, bob)
    assert await feed_ids(content_stub, carol) == []
    first = await create_post(content_stub, bob)
    assert await feed_once(content_stub, carol, [first.id]) == [first.id]
    async with Redis.from_url(redis_url) as redis:
        assert await _readers(redis, bob) == {carol.id}

        assert await feed_ids(content_stub, alice) == [first.id]  # built from the database

        assert await _readers(redis, bob) == {carol.id, alice.id}
    second = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [second.id, first.id]) == [second.id, first.id]


async def test_a_follower_whose_feed_is_kept_joins_the_audience_as_they_follow(
    stub, content_stub, redis_url, alice, bob, carol
):
    await follow(stub, carol, bob)
    assert await feed_ids(content_stub, carol) == []
    assert await feed_ids(content_stub, alice) == []
    first = await create_post(content_stub, bob)
    assert await feed_once(content_stub, carol, [first.id]) == [first.id]

    await follow(stub, alice, bob)

    async with Redis.from_url(redis_url) as redis:
        await _until(lambda: redis.zscore(audience_key(bob.id), alice.id), "alice never joined")
    second = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [second.id, first.id]) == [second.id, first.id]


async def test_an_ended_follow_leaves_the_audience(stub, content_stub, redis_url, alice, bob):
    await follow(stub, alice, bob)
    assert await feed_ids(content_stub, alice) == []
    post = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [post.id]) == [post.id]

    await stub.Unfollow(pb.UnfollowRequest(user_id=bob.id), metadata=alice.auth)

    async with Redis.from_url(redis_url) as redis:

        async def left() -> bool:
            return await redis.zscore(audience_key(bob.id), alice.id) is None

        await _until(left, "alice is still in bob's audience")
        assert await redis.zscore(audience_key(bob.id), BUILT) == 0


async def test_a_lost_audience_is_found_again_from_social(
    stub, content_stub, redis_url, alice, bob
):
    await follow(stub, alice, bob)
    assert await feed_ids(content_stub, alice) == []
    first = await create_post(content_stub, bob)
    assert await feed_once(content_stub, alice, [first.id]) == [first.id]
    async with Redis.from_url(redis_url) as redis:
        await redis.delete(audience_key(bob.id))

        second = await create_post(content_stub, bob)

        assert await feed_once(content_stub, alice, [second.id, first.id]) == [second.id, first.id]
        assert await _readers(redis, bob) == {alice.id}


async def test_readers_gone_from_the_active_set_are_pruned_as_the_audience_is_read(redis_url):
    author, staying, gone = (str(uuid.uuid4()) for _ in range(3))
    async with Redis.from_url(redis_url) as redis:
        audiences = _audiences(redis)
        await redis.zadd(ACTIVE, {staying: time.time(), gone: time.time()})
        await audiences.begin(author)
        assert sorted(await audiences.complete(author, [staying, gone])) == sorted([staying, gone])
        await redis.zrem(ACTIVE, gone)

        assert await audiences.readers(author) == [staying]

        assert await redis.zscore(audience_key(author), gone) is None


async def test_only_followers_in_the_active_set_are_in_a_found_audience(redis_url):
    author, reading, idle = (str(uuid.uuid4()) for _ in range(3))
    async with Redis.from_url(redis_url) as redis:
        audiences = _audiences(redis)
        await redis.zadd(ACTIVE, {reading: time.time()})
        await audiences.begin(author)

        assert await audiences.complete(author, [reading, idle]) == [reading]
        assert await audiences.readers(author) == [reading]


async def test_a_reader_who_joins_while_an_audience_is_being_found_is_kept_in_it(redis_url):
    author, reader = str(uuid.uuid4()), str(uuid.uuid4())
    async with Redis.from_url(redis_url) as redis:
        audiences = _audiences(redis)
        await redis.zadd(ACTIVE, {reader: time.time()})
        await audiences.begin(author)

        await audiences.join(reader, [author])  # followed after social was asked

        assert await audiences.complete(author, []) == [reader]


async def test_joining_an_audience_neither_kept_nor_being_found_leaves_it_missing(redis_url):
    author, reader = str(uuid.uuid4()), str(uuid.uuid4())
    async with Redis.from_url(redis_url) as redis:
        audiences = _audiences(redis)
        await redis.zadd(ACTIVE, {reader: time.time()})

        await audiences.join(reader, [author])

        assert await redis.exists(audience_key(author)) == 0
        assert await audiences.readers(author) is None


async def test_a_found_audience_is_found_again_after_its_lifetime(redis_url):
    author = str(uuid.uuid4())
    async with Redis.from_url(redis_url) as redis:
        audiences = _audiences(redis)
        await audiences.begin(author)

        await audiences.complete(author, [])

        assert 0 < await redis.ttl(audience_key(author)) <= AUDIENCE_SECONDS


async def test_an_audience_a_reader_joined_while_it_was_found_has_a_lifetime(redis_url):
    author, reader = str(uuid.uuid4()), str(uuid.uuid4())
    async with Redis.from_url(redis_url) as redis:
        audiences = _audiences(redis)
        await audiences.begin(author)

        await audiences.join(reader, [author])  # the finding never completes

        assert 0 < await redis.ttl(audience_key(author)) <= AUDIENCE_SECONDS
