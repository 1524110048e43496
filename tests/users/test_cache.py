"""The Redis cache: reads are served from it, writes invalidate it, and without it the
service is slower but never wrong and never failing."""

from __future__ import annotations

import asyncio
from collections import Counter

import grpc
import pytest
import redis.asyncio as aioredis

from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.embedded import EmbeddedRedis

from .conftest import Accounts, open_channel, start_users_service

CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"


def totals(stats: Counter) -> Counter:
    """Hits and misses summed over the cache tiers."""
    summed: Counter = Counter()
    for (_tier, outcome), count in stats.items():
        summed[outcome] += count
    return summed


def get_user(stub, account, user_id: str):
    return stub.GetUser(users_pb2.GetUserRequest(id=user_id), metadata=account.auth)


def rename(stub, account, display_name: str):
    request = users_pb2.UpdateProfileRequest(
        profile=users_pb2.Profile(user_id=account.id, display_name=display_name)
    )
    request.update_mask.paths.append("display_name")
    return stub.UpdateProfile(request, metadata=account.auth)


async def test_get_user_twice_is_served_from_the_cache_the_second_time(
    alice, bob, stub, users_server
):
    stats = users_server.runtime.cache.stats
    await get_user(stub, bob, alice.id)
    before = totals(stats)

    again = (await get_user(stub, bob, alice.id)).user

    after = totals(stats)
    assert after["hit"] - before["hit"] == 1
    assert after["miss"] == before["miss"]
    assert again.id == alice.id


async def test_get_user_is_cached_in_the_profiles_tier(alice, bob, stub, users_server):
    stats = users_server.runtime.cache.stats
    await get_user(stub, bob, alice.id)
    hits = stats["profiles", "hit"]

    await get_user(stub, bob, alice.id)

    assert stats["profiles", "hit"] == hits + 1


async def test_batch_get_users_reads_cached_users_from_the_cache(alice, bob, stub, users_server):
    stats = users_server.runtime.cache.stats
    request = users_pb2.BatchGetUsersRequest(ids=[alice.id, bob.id])
    await stub.BatchGetUsers(request, metadata=alice.auth)
    before = totals(stats)

    response = await stub.BatchGetUsers(request, metadata=alice.auth)

    after = totals(stats)
    assert after["hit"] - before["hit"] == 2
    assert after["miss"] == before["miss"]
    assert [u.id for u in response.users] == [alice.id, bob.id]


async def test_a_cached_user_still_shows_email_only_to_themself(alice, bob, stub):
    await get_user(stub, alice, alice.id)  # cached with everything

    assert (await get_user(stub, bob, alice.id)).user.email == ""
    assert (await get_user(stub, alice, alice.id)).user.email == alice.email


async def test_a_cached_user_is_stored_in_redis_under_the_service_namespace(
    alice, bob, stub, redis_url
):
    await get_user(stub, bob, alice.id)

    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"users:*{alice.id}*")]
    finally:
        await client.aclose()
    assert keys


# --- without Redis ---------------------------------------------------------------------


@pytest.fixture(scope="module")
async def redis_less(users_db_url):
    """A second users service on the same database, whose Redis never answers."""
    running = await start_users_service(users_db_url, CLOSED_REDIS_URL)
    channel = open_channel(running.port)
    yield Accounts(users_pb2_grpc.UserServiceStub(channel), users_db_url)
    await channel.close()
    await running.stop(0)


async def test_without_redis_register_login_and_reads_still_answer(redis_less):
    stub = redis_less.stub
    alice = await redis_less.create(display_name="Alice Without Redis")
    bob = await redis_less.create()

    user = (await get_user(stub, bob, alice.id)).user
    again = (await get_user(stub, bob, alice.id)).user
    batch = await stub.BatchGetUsers(
        users_pb2.BatchGetUsersRequest(ids=[alice.id, bob.id]), metadata=bob.auth
    )

    assert user == again
    assert user.display_name == "Alice Without Redis"
    assert [u.id for u in batch.users] == [alice.id, bob.id]


async def test_without_redis_an_update_shows_at_once(redis_less):
    stub = redis_less.stub
    alice = await redis_less.create()
    await get_user(stub, alice, alice.id)

    await rename(stub, alice, "Renamed Without Redis")

    assert (await get_user(stub, alice, alice.id)).user.display_name == "Renamed Without Redis"
    profile = await stub.GetProfile(
        users_pb2.GetProfileRequest(user_id=alice.id), metadata=alice.auth
    )
    assert profile.profile.display_name == "Renamed Without Redis"


async def test_without_redis_login_throttling_still_applies(redis_less, rejected):
    alice = await redis_less.create()
    for _ in range(10):
        failure = await rejected(redis_less.login(alice.username, "not-the-password"))
        assert failure.code == grpc.StatusCode.UNAUTHENTICATED

    throttled = await rejected(redis_less.login(alice.username, alice.password))

    assert throttled.code == grpc.StatusCode.RESOURCE_EXHAUSTED


# --- Redis going away and coming back ---------------------------------------------------


async def test_reads_stay_correct_while_redis_is_down_and_after_it_returns(users_db_url, tmp_path):
    server = EmbeddedRedis(tmp_path / "redis", durable=True)  # keeps its data over a restart
    await asyncio.to_thread(server.start)
    running = await start_users_service(users_db_url, server.url)
    channel = open_channel(running.port)
    try:
        accounts = Accounts(users_pb2_grpc.UserServiceStub(channel), users_db_url)
        stub = accounts.stub
        alice = await accounts.create(display_name="Before")
        await get_user(stub, alice, alice.id)
        await get_user(stub, alice, alice.id)
        assert running.runtime.cache.stats["profiles", "hit"] >= 1

        await asyncio.to_thread(server.stop)

        assert (await get_user(stub, alice, alice.id)).user.display_name == "Before"
        await rename(stub, alice, "While Down")
        assert (await get_user(stub, alice, alice.id)).user.display_name == "While Down"
        login = await accounts.login(alice.username, alice.password)
        assert login.user.display_name == "While Down"

        await asyncio.to_thread(server.start)
        client = aioredis.Redis.from_url(server.url)
        try:
            stale = [key async for key in client.scan_iter(match=f"*{alice.id}*")]
        finally:
            await client.aclose()
        assert stale, "the restarted Redis should hold the entry cached before the outage"
        await asyncio.sleep(1.2)  # past the cache's back-off after a Redis failure

        assert (await get_user(stub, alice, alice.id)).user.display_name == "While Down"
        assert (await get_user(stub, alice, alice.id)).user.display_name == "While Down"
    finally:
        await channel.close()
        await running.stop(0)
        await asyncio.to_thread(server.stop)
