"""GetHomeFeed: the posts of the accounts the caller follows, and their own, newest first,
kept by fan-out on write (and merged in at read time for celebrities), rebuilt when
missing, served from the database when Redis is down."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC

import grpc
import pytest
from redis.asyncio import Redis

from daira.content.v1 import content_pb2 as cpb
from daira.content.v1 import content_pb2_grpc
from daira.social.v1 import social_pb2 as pb
from services.content.feed_store import (
    ACTIVE,
    ACTIVE_SLACK_SECONDS,
    BUILT,
    CELEBRITIES,
    SCRIPT_TIMELINES,
    FeedStore,
    celebrities_key,
    feed_key,
    recent_key,
    score,
)

from .conftest import (
    CELEBRITY_FOLLOWERS,
    calls_to_social,
    content_service,
    create_post,
    follow,
    open_channel,
)


async def feed(content_stub, reader, page_size=20, page_token="") -> cpb.GetHomeFeedResponse:
    request = cpb.GetHomeFeedRequest(page_size=page_size, page_token=page_token)
    return await content_stub.GetHomeFeed(request, metadata=reader.auth)


async def feed_ids(content_stub, reader) -> list[str]:
    return [post.id for post in (await feed(content_stub, reader, page_size=100)).posts]


async def feed_once(content_stub, reader, expected: list[str], wait_seconds=10.0) -> list[str]:
    """The reader's feed once it is `expected` (fan-out follows the write shortly)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = await feed_ids(content_stub, reader)
        if found == expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


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

    hide = cpb.SetContentVisibilityRequest(
        target_kind=cpb.TARGET_KIND_POST,
        target_id=post.id,
        state=cpb.MODERATION_STATE_HIDDEN,
        reason="spam",
    )
    await content_stub.SetContentVisibility(hide, metadata=service_auth)

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


async def celebrity_with_fans(stub, content_stub, accounts, celebrity):
    """Followers enough to make `celebrity` one, each with a built feed."""
    fans = [await accounts.create() for _ in range(CELEBRITY_FOLLOWERS + 1)]
    for fan in fans:
        await follow(stub, fan, celebrity)
        assert await feed_ids(content_stub, fan) == []
    return fans


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


async def test_a_post_published_while_a_feed_is_being_built_goes_into_it(
    stub, content_stub, redis_url, alice, bob
):
    await follow(stub, alice, bob)
    async with Redis.from_url(redis_url) as redis:
        store = FeedStore(redis, size=800, idle_seconds=3600)
        await store.begin_build_of(alice.id, [])

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

        await store.add([uuid.uuid4()], [(7, "a-post")])

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
    asked = calls_to_social("ListFollowing")

    pages = await asyncio.gather(*(feed_ids(content_stub, alice) for _ in range(8)))

    assert pages == [[post.id]] * 8
    assert calls_to_social("ListFollowing") - asked == 1


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
        assert await store.begin_build_of(fans[0].id, [alice.id]) == set()  # not yet one

        await create_post(content_stub, alice)

        deadline = time.monotonic() + 10
        while not await redis.sismember(celebrities_key(fans[0].id), alice.id):
            assert time.monotonic() < deadline, "the feed being built was not told"
            await asyncio.sleep(0.02)


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
