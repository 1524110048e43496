"""The per-process near cache: on only while subscribed, and dropped by any process's writes."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from shared.cache import Cache
from shared.tiers import Tier


async def eventually(condition, within: float = 3.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


@pytest.fixture
async def namespace() -> str:
    return "near-" + uuid.uuid4().hex[:8]


@pytest.fixture
async def pair(redis_url: str, namespace: str) -> AsyncIterator[tuple[Cache, Cache]]:
    """Two caches of one service, as two processes would have."""
    caches = [Cache(Redis.from_url(redis_url), namespace, near_ttl_seconds=30) for _ in range(2)]
    for cache in caches:
        cache.start()
    assert await eventually(lambda: all(c.near.enabled for c in caches))
    yield caches[0], caches[1]
    for cache in caches:
        await cache.close()
        await cache.redis.aclose()


async def test_a_read_value_is_served_from_the_process_copy(pair: tuple[Cache, Cache]) -> None:
    reader, _ = pair
    await reader.set(Tier.PROFILES, "user:1", b"v1")
    await reader.redis.delete(reader.key(Tier.PROFILES, "user:1"))
    assert await reader.get(Tier.PROFILES, "user:1") == b"v1"


async def test_an_invalidation_in_one_process_drops_the_copy_in_another(
    pair: tuple[Cache, Cache],
) -> None:
    reader, writer = pair
    await writer.set(Tier.PROFILES, "user:2", b"old")
    assert await reader.get(Tier.PROFILES, "user:2") == b"old"

    await writer.delete(Tier.PROFILES, "user:2")

    assert await eventually(lambda: reader.near.get(reader.key(Tier.PROFILES, "user:2")) is None)
    assert await reader.get(Tier.PROFILES, "user:2") is None


async def test_tiers_not_chosen_for_the_near_cache_always_ask_redis(
    pair: tuple[Cache, Cache],
) -> None:
    reader, _ = pair
    await reader.set(Tier.GENERIC, "k", b"v")
    await reader.redis.delete(reader.key(Tier.GENERIC, "k"))
    assert await reader.get(Tier.GENERIC, "k") is None


async def test_a_copy_lives_no_longer_than_the_value_written_with_a_shorter_ttl(
    pair: tuple[Cache, Cache],
) -> None:
    reader, _ = pair
    await reader.set(Tier.PROFILES, "user:3", b"v", ttl_seconds=1)
    assert reader.near.get(reader.key(Tier.PROFILES, "user:3")) == b"v"

    assert await eventually(lambda: reader.near.get(reader.key(Tier.PROFILES, "user:3")) is None)


async def test_a_copy_of_a_read_lives_no_longer_than_the_reader_asks(
    pair: tuple[Cache, Cache],
) -> None:
    reader, _ = pair
    await reader.redis.set(reader.key(Tier.PROFILES, "user:4"), b"v")
    assert await reader.get_many(Tier.PROFILES, ["user:4"], near_seconds=1) == {"user:4": b"v"}
    assert reader.near.get(reader.key(Tier.PROFILES, "user:4")) == b"v"

    assert await eventually(lambda: reader.near.get(reader.key(Tier.PROFILES, "user:4")) is None)


async def test_near_cache_stays_off_while_redis_is_unreachable() -> None:
    cache = Cache(
        Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2),
        "down",
        near_ttl_seconds=30,
    )
    cache.start()
    await asyncio.sleep(0.5)
    assert not cache.near.enabled
    await cache.close()


async def test_a_loaded_entrys_copy_lives_no_longer_than_near_seconds(
    pair: tuple[Cache, Cache],
) -> None:
    reader, _ = pair

    async def load(keys: list[str]) -> dict[str, bytes]:
        return {key: b"loaded" for key in keys}

    await reader.get_many_or_load(Tier.PROFILES, ["user:4"], load, near_seconds=0.2)
    await reader.redis.set(reader.key(Tier.PROFILES, "user:4"), b"renewed")
    await asyncio.sleep(0.3)

    assert await reader.get(Tier.PROFILES, "user:4") == b"renewed"
