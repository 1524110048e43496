import asyncio
import uuid

from redis.asyncio import Redis

from shared import cache as cache_module
from shared.cache import Cache
from shared.tiers import Tier


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


class CountingLoader:
    """A batch loader answering b"v:<key>" after a pause, recording the keys of each call.

    `started` is set once a call is under way; a held loader then waits for `release`,
    so a test can act while a load is surely in flight."""

    def __init__(self, fail: bool = False, held: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        if not held:
            self.release.set()

    async def __call__(self, keys: list[str]) -> dict[str, bytes]:
        self.calls.append(keys)
        self.started.set()
        await self.release.wait()
        await asyncio.sleep(0.05)
        if self.fail:
            raise RuntimeError("peer down")
        return {key: f"v:{key}".encode() for key in keys}


async def test_a_load_overtaken_by_an_invalidation_is_answered_but_not_cached(
    redis_url: str,
) -> None:
    cache = Cache(Redis.from_url(redis_url), f"overtaken-{uuid.uuid4()}")
    loader = CountingLoader(held=True)

    loading = asyncio.create_task(cache.get_many_or_load(Tier.GENERIC, ["a", "b"], loader))
    await loader.started.wait()
    await cache.delete(Tier.GENERIC, "a")
    loader.release.set()

    assert await loading == {"a": b"v:a", "b": b"v:b"}
    assert await cache.get_many(Tier.GENERIC, ["a", "b"]) == {"b": b"v:b"}
    await cache.redis.aclose()


async def test_an_invalidation_overtakes_only_the_load_it_happened_during(
    redis_url: str,
) -> None:
    cache = Cache(Redis.from_url(redis_url), f"overtaken-once-{uuid.uuid4()}")
    loader = CountingLoader(held=True)
    loading = asyncio.create_task(cache.get_many_or_load(Tier.GENERIC, ["a"], loader))
    await loader.started.wait()
    await cache.delete(Tier.GENERIC, "a")
    loader.release.set()
    await loading

    await cache.get_many_or_load(Tier.GENERIC, ["a"], loader)

    assert await cache.get_many(Tier.GENERIC, ["a"]) == {"a": b"v:a"}
    await cache.redis.aclose()


async def test_a_load_overtaken_by_another_processs_invalidation_is_not_cached(
    redis_url: str,
) -> None:
    namespace = f"overtaken-elsewhere-{uuid.uuid4()}"
    loading_here, writing_there = (Cache(Redis.from_url(redis_url), namespace) for _ in range(2))
    loader = CountingLoader(held=True)
    loading = asyncio.create_task(loading_here.get_many_or_load(Tier.GENERIC, ["a"], loader))
    await loader.started.wait()
    await writing_there.delete(Tier.GENERIC, "a")
    loader.release.set()

    assert await loading == {"a": b"v:a"}
    assert await writing_there.get_many(Tier.GENERIC, ["a"]) == {}
    for cache in (loading_here, writing_there):
        await cache.redis.aclose()


async def test_a_load_that_outlived_the_fences_is_answered_but_not_cached(
    redis_url: str, monkeypatch
) -> None:
    monkeypatch.setattr(cache_module, "FENCE_SECONDS", 0)
    cache = Cache(Redis.from_url(redis_url), f"slow-load-{uuid.uuid4()}")

    assert await cache.get_many_or_load(Tier.GENERIC, ["a"], CountingLoader()) == {"a": b"v:a"}
    assert await cache.get_many(Tier.GENERIC, ["a"]) == {}
    await cache.redis.aclose()


async def test_a_load_writes_back_only_what_is_cacheable_and_answers_all(redis_url: str) -> None:
    cache = Cache(Redis.from_url(redis_url), f"cacheable-{uuid.uuid4()}")

    found = await cache.get_many_or_load(
        Tier.GENERIC, ["a", "b"], CountingLoader(), cacheable=lambda value: value != b"v:b"
    )

    assert found == {"a": b"v:a", "b": b"v:b"}
    assert await cache.get_many(Tier.GENERIC, ["a", "b"]) == {"a": b"v:a"}
    await cache.redis.aclose()


async def test_concurrent_batch_loads_of_the_same_keys_call_the_loader_once() -> None:
    cache = down_cache()
    loader = CountingLoader()

    results = await asyncio.gather(
        *(cache.get_many_or_load(Tier.GENERIC, ["a", "b"], loader) for _ in range(10))
    )

    assert results == [{"a": b"v:a", "b": b"v:b"}] * 10
    assert loader.calls == [["a", "b"]]


async def test_a_batch_load_asks_only_for_the_keys_no_other_call_is_loading() -> None:
    cache = down_cache()
    loader = CountingLoader()

    first, second = await asyncio.gather(
        cache.get_many_or_load(Tier.GENERIC, ["a", "b"], loader),
        cache.get_many_or_load(Tier.GENERIC, ["b", "c"], loader),
    )

    assert first == {"a": b"v:a", "b": b"v:b"}
    assert second == {"b": b"v:b", "c": b"v:c"}
    assert loader.calls == [["a", "b"], ["c"]]


async def test_a_failed_batch_load_fails_every_call_that_waited_on_it() -> None:
    cache = down_cache()
    loader = CountingLoader(fail=True)

    results = await asyncio.gather(
        *(cache.get_many_or_load(Tier.GENERIC, ["a"], loader) for _ in range(3)),
        return_exceptions=True,
    )

    assert [str(r) for r in results] == ["peer down"] * 3
    assert len(loader.calls) == 1
    assert cache._inflight == {}


async def test_a_batch_is_answered_from_the_cache_and_written_back(redis_url: str) -> None:
    cache = Cache(Redis.from_url(redis_url), "batch-test")
    await cache.set(Tier.GENERIC, "cached", b"kept")
    loader = CountingLoader()

    found = await cache.get_many_or_load(Tier.GENERIC, ["cached", "new"], loader, ttl_seconds=9)

    assert found == {"cached": b"kept", "new": b"v:new"}
    assert loader.calls == [["new"]]
    assert await cache.redis.get(cache.key(Tier.GENERIC, "new")) == b"v:new"
    assert 0 < await cache.redis.ttl(cache.key(Tier.GENERIC, "new")) <= 9
    await cache.redis.aclose()


async def test_a_batch_written_together_is_read_back_whole(redis_url: str) -> None:
    cache = Cache(Redis.from_url(redis_url), "set-all-test")
    items = {f"k{i}": f"v{i}".encode() for i in range(40)}

    await cache.set_many(Tier.GENERIC, items, ttl_seconds=11)

    assert await cache.get_many(Tier.GENERIC, items) == items
    assert 0 < await cache.redis.ttl(cache.key(Tier.GENERIC, "k39")) <= 11
    await cache.redis.aclose()


async def holding(redis_url: str, key: str, value: bytes, ttl_seconds: int) -> Cache:
    """A cache of its own namespace with one entry, due to expire in `ttl_seconds`."""
    cache = Cache(Redis.from_url(redis_url), f"renew-test-{uuid.uuid4().hex[:8]}")
    await cache.set(Tier.GENERIC, key, value, ttl_seconds=ttl_seconds)
    return cache


async def renewing_read(cache: Cache, keys: list[str], loader: CountingLoader) -> dict:
    """A read that renews entries with under 5 s to live, writing 30 s ones."""
    return await cache.get_many_or_load(Tier.GENERIC, keys, loader, ttl_seconds=30, renew_seconds=5)


async def test_an_entry_near_its_end_is_answered_as_it_is_and_renewed_behind(
    redis_url: str,
) -> None:
    cache = await holding(redis_url, "hot", b"old", ttl_seconds=1)
    loader = CountingLoader()

    found = await renewing_read(cache, ["hot"], loader)

    assert found == {"hot": b"old"}
    await asyncio.gather(*cache._renewals.values())
    assert loader.calls == [["hot"]]
    assert await cache.redis.get(cache.key(Tier.GENERIC, "hot")) == b"v:hot"
    assert await cache.redis.ttl(cache.key(Tier.GENERIC, "hot")) > 5
    await cache.close()
    await cache.redis.aclose()


async def test_a_tier_renews_one_batch_at_a_time(redis_url: str) -> None:
    cache = await holding(redis_url, "first", b"old", ttl_seconds=1)
    await cache.set(Tier.GENERIC, "second", b"old", ttl_seconds=1)
    loader = CountingLoader()
    await renewing_read(cache, ["first"], loader)

    found = await renewing_read(cache, ["second"], loader)  # while first's renewal is out

    assert found == {"second": b"old"}
    await asyncio.gather(*cache._renewals.values())
    assert loader.calls == [["first"]]
    await renewing_read(cache, ["second"], loader)
    await asyncio.gather(*cache._renewals.values())
    assert loader.calls == [["first"], ["second"]]
    await cache.close()
    await cache.redis.aclose()


async def test_an_entry_with_life_left_is_not_renewed(redis_url: str) -> None:
    cache = await holding(redis_url, "fresh", b"kept", ttl_seconds=60)
    loader = CountingLoader()

    found = await renewing_read(cache, ["fresh"], loader)

    assert found == {"fresh": b"kept"}
    assert not cache._renewals
    assert loader.calls == []
    await cache.redis.aclose()
