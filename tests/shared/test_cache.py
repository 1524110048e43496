import asyncio

from redis.asyncio import Redis

from shared.cache import Cache, Tier


def down_cache() -> Cache:
    """A cache whose Redis port is closed."""
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    return Cache(redis, "test")


async def test_cache_with_redis_down_answers_from_the_loader() -> None:
    cache = down_cache()

    async def load() -> bytes:
        return b"fresh"

    assert await cache.get_or_load(Tier.GENERIC, "k", load) == b"fresh"
    assert await cache.get_many(Tier.GENERIC, ["a", "b"]) == {}


async def test_invalidation_during_an_outage_is_kept_until_redis_answers() -> None:
    cache = down_cache()
    await cache.delete(Tier.PROFILES, "user:1")
    assert cache._pending_deletes == {"test:profiles:user:1"}


async def test_concurrent_loads_of_one_key_call_the_loader_once() -> None:
    cache = down_cache()
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return b"v"

    results = await asyncio.gather(*(cache.get_or_load(Tier.GENERIC, "k", load) for _ in range(10)))
    assert results == [b"v"] * 10
    assert calls == 1


async def test_cache_hits_and_misses_are_counted_per_tier(redis_url: str) -> None:
    cache = Cache(Redis.from_url(redis_url), "count-test")
    await cache.set(Tier.PROFILES, "a", b"1")
    await cache.get_many(Tier.PROFILES, ["a", "missing"])
    assert cache.stats["profiles", "hit"] == 1
    assert cache.stats["profiles", "miss"] == 1
    await cache.redis.aclose()


async def test_an_entry_written_with_its_own_ttl_expires_then(redis_url: str) -> None:
    cache = Cache(Redis.from_url(redis_url), "ttl-test")

    async def load() -> bytes:
        return b"v"

    await cache.get_or_load(Tier.GENERIC, "short", load, ttl_seconds=7)
    await cache.set(Tier.GENERIC, "long", b"v")
    assert 0 < await cache.redis.ttl(cache.key(Tier.GENERIC, "short")) <= 7
    assert await cache.redis.ttl(cache.key(Tier.GENERIC, "long")) > 7
    await cache.redis.aclose()
