"""The home feed's benchmark: reads as many users (cold feeds, each rebuilt on its first
read), the mixed run of a social network's traffic, and the fan-out delay.

Calls made as many users carry tokens minted with the services' secret, as users'
sessions would; the bench user's feed is the warm case (scenarios/content.py).

The mixed run is the classic microservice social-network mix: 60% home-feed reads, 30%
user-timeline reads, 10% new posts, by a pool of users who have read their feeds before
(`open_feeds`, as users active lately have), so it measures steady traffic, not
rebuilds (the cold scenario's), and the posts fan out to the feeds of those of them who
follow the author.

Fan-out delay: once the fan-out of earlier writes has caught up, an author with about
10,000 followers, every follower's feed built (as for users active lately), posts; the
delay is from CreatePost returning to the post being in all those feeds, read straight
from Redis.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import grpc
import psycopg
from redis.asyncio import Redis

from daira.content.v1 import content_pb2 as cpb
from daira.content.v1 import content_pb2_grpc
from services.content import SPEC as CONTENT
from services.content.feed_store import FeedStore, feed_key
from shared.auth import Role, TokenService

# (method, serialized request, the user it is sent as)
Call = tuple[str, bytes, str]
API = f"/{CONTENT.grpc_service}"
PAGE_SIZE = 20
MIX = (("feed", 6), ("timeline", 3), ("post", 1))
MIX_CALLS = 20_000
# Feeds read at once by open_feeds.
OPENERS = 16
FANOUT_FOLLOWERS = 10_000
FANOUT_RUNS = 3
FANOUT_TIMEOUT_SECONDS = 30.0
SETTLE_TIMEOUT_SECONDS = 600.0
# The services' default events_stream_prefix, which the bench leaves as it is.
STREAM_PREFIX = "daira"


def minter(secret: str) -> Callable[[str], tuple[tuple[str, str], ...]]:
    """The metadata of a call as `user_id` (a user's access token, good for an hour)."""
    tokens = TokenService(secret, 3600)

    def metadata(user_id: str) -> tuple[tuple[str, str], ...]:
        token, _ = tokens.issue_access(uuid.UUID(user_id), Role.USER, uuid.uuid4())
        return (("authorization", f"Bearer {token}"),)

    return metadata


async def open_feeds(
    target: str, mint: Callable[[str], tuple[tuple[str, str], ...]], users: Sequence[str]
) -> None:
    """Read each user's first page once, OPENERS at a time, so their feeds are built."""
    request = cpb.GetHomeFeedRequest(page_size=PAGE_SIZE)
    gate = asyncio.Semaphore(OPENERS)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = content_pb2_grpc.ContentServiceStub(channel)

        async def read(user: str) -> None:
            async with gate:
                await stub.GetHomeFeed(request, metadata=mint(user), timeout=30)

        await asyncio.gather(*(read(user) for user in users))


def cold_reads(users: Sequence[str]) -> list[Call]:
    """A first page of each user's feed, each user once (their feed does not exist yet)."""
    request = cpb.GetHomeFeedRequest(page_size=PAGE_SIZE).SerializeToString()
    return [(f"{API}/GetHomeFeed", request, user) for user in users]


def mixed(readers: Sequence[str], authors: Sequence[str], rng: random.Random) -> list[Call]:
    """MIX_CALLS calls in the MIX's proportions, in random order; each post its own."""
    feed = cpb.GetHomeFeedRequest(page_size=PAGE_SIZE).SerializeToString()
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    calls: list[Call] = []
    for n in range(MIX_CALLS):
        reader = rng.choice(readers)
        kind = rng.choice(kinds)
        if kind == "feed":
            calls.append((f"{API}/GetHomeFeed", feed, reader))
        elif kind == "timeline":
            request = cpb.ListUserPostsRequest(user_id=rng.choice(authors), page_size=PAGE_SIZE)
            calls.append((f"{API}/ListUserPosts", request.SerializeToString(), reader))
        else:
            post = cpb.CreatePostRequest(text=f"mixed run post {n}", request_id=uuid.uuid4().hex)
            calls.append((f"{API}/CreatePost", post.SerializeToString(), reader))
    return calls


def author_near(social_url: str, followers: int) -> tuple[str, list[str]]:
    """The user whose follower count is closest to `followers`, and their followers."""
    with psycopg.connect(social_url) as conn:
        row = conn.execute(
            "SELECT followee_id FROM follows WHERE state = 'active' GROUP BY followee_id "
            "ORDER BY abs(count(*) - %s) LIMIT 1",
            [followers],
        ).fetchone()
        assert row is not None, "the social graph has no follows"
        fans = conn.execute(
            "SELECT follower_id FROM follows WHERE followee_id = %s AND state = 'active'", [row[0]]
        ).fetchall()
    return str(row[0]), [str(fan) for (fan,) in fans]


async def _fan_out_once(
    stub: Any,
    redis: Redis,
    metadata: tuple[tuple[str, str], ...],
    followers: list[str],
    run: int,
) -> float:
    request = cpb.CreatePostRequest(text=f"fan-out run {run}", request_id=uuid.uuid4().hex)
    post = (await stub.CreatePost(request, metadata=metadata, timeout=30)).post
    returned = time.perf_counter()
    waiting = followers
    while waiting:
        if time.perf_counter() - returned > FANOUT_TIMEOUT_SECONDS:
            raise RuntimeError(f"{len(waiting)} feeds still lack the post after the timeout")
        async with redis.pipeline(transaction=False) as pipe:
            for follower in waiting:
                pipe.zscore(feed_key(follower), post.id)
            scores = await pipe.execute()
        waiting = [f for f, s in zip(waiting, scores, strict=True) if s is None]
        await asyncio.sleep(0.005)
    return time.perf_counter() - returned


async def _caught_up(redis: Redis, stream: bytes) -> bool:
    """Whether every consumer group of `stream` has handled all it holds."""
    last = (await redis.xinfo_stream(stream))["last-generated-id"]
    return all(
        group["pending"] == 0 and group["last-delivered-id"] == last
        for group in await redis.xinfo_groups(stream)
    )


async def settled(redis_url: str) -> float:
    """Wait until every consumer of the deployment's events has caught up, so what earlier
    writes left to do in the background (a post's fan-out, a follow's backfill) is not
    measured as part of what runs next; the seconds waited."""
    start = time.perf_counter()
    async with Redis.from_url(redis_url) as redis:
        streams = [s async for s in redis.scan_iter(match=f"{STREAM_PREFIX}.*", _type="STREAM")]
        while time.perf_counter() < start + SETTLE_TIMEOUT_SECONDS:
            if all([await _caught_up(redis, stream) for stream in streams]):
                return time.perf_counter() - start
            await asyncio.sleep(0.1)
    raise RuntimeError("the services' event consumers did not catch up")


async def fan_out_delays(
    content_target: str,
    redis_url: str,
    author: str,
    followers: list[str],
    metadata: tuple[tuple[str, str], ...],
) -> list[float]:
    """Seconds from CreatePost returning to the post being in every follower's feed."""
    await settled(redis_url)
    async with Redis.from_url(redis_url) as redis:
        store = FeedStore(redis, size=800, idle_seconds=3600)
        for follower in followers:
            await store.build(uuid.UUID(follower), [], [])
        async with grpc.aio.insecure_channel(content_target) as channel:
            stub = content_pb2_grpc.ContentServiceStub(channel)
            return [
                await _fan_out_once(stub, redis, metadata, followers, run)
                for run in range(FANOUT_RUNS)
            ]
