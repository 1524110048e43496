"""Redis cache-aside in named tiers, with batch reads, single-flight loads (of one key or a
batch) and hit/miss counts.

Values are protobuf bytes. Redis being down makes the service slower, never wrong
and never failing: reads fall through to the loader, and invalidations that could
not be sent are retried before the next read is trusted.

A load may read the database just before a write commits and write its value back just
after that write's invalidation: the old value would then stand for the tier's whole
TTL. So every invalidation also sets the key's fence (a number never used before), a
load reads the fences of its keys before it starts, and writes back only the keys whose
fence is still what it read, in one script (atomic in Redis, whichever process
invalidated and however the commands of different connections interleave).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared import cache_scripts, metrics
from shared.logs import get_logger
from shared.nearcache import NearCache
from shared.tiers import Tier

log = get_logger("daira.cache")

# After a Redis failure, skip Redis for this long rather than wait on it per request.
BACKOFF_SECONDS = 1.0

# How long a fence outlives its invalidation; a load that ran longer is not written back.
FENCE_SECONDS = 300

Loader = Callable[[], Awaitable[bytes | None]]
# Given the keys missing from the cache, the values of those it can answer.
BatchLoader = Callable[[list[str]], Awaitable[Mapping[str, bytes]]]


@dataclass(frozen=True)
class _Load:
    """How one get_many_or_load call loads, writes back and renews what it misses."""

    tier: Tier
    loader: BatchLoader
    ttl_seconds: int | None
    near_seconds: float | None
    cacheable: Callable[[bytes], bool] | None


class Cache:
    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        near_ttl_seconds: float = 0.0,
        near_tiers: Iterable[Tier] = (Tier.PROFILES,),
    ) -> None:
        """`near_ttl_seconds` > 0 keeps a per-process copy of `near_tiers` (see NearCache)."""
        self.redis = redis
        self._namespace = namespace
        self.near = NearCache(redis, f"{namespace}:invalidations", near_ttl_seconds)
        self._near_tiers = frozenset(near_tiers)
        self._down_until = 0.0
        self._pending_deletes: set[str] = set()
        self._inflight: dict[str, asyncio.Future[bytes | None]] = {}
        self._fence_counter = f"{namespace}:fences"
        # Each tier's key prefix, made once: a batch read names a hundred keys.
        self._prefixes = {tier: f"{namespace}:{tier.value}:" for tier in Tier}
        self._set_all = redis.register_script(cache_scripts.SET_ALL)
        self._invalidate = redis.register_script(cache_scripts.INVALIDATE)
        self._set_unfenced = redis.register_script(cache_scripts.SET_UNFENCED)
        self._get_all_with_ttl = redis.register_script(cache_scripts.GET_ALL_WITH_TTL)
        # The renewal out per tier: a tier renews one batch at a time.
        self._renewals: dict[Tier, asyncio.Task[dict[str, bytes]]] = {}
        self.stats: Counter[tuple[str, str]] = Counter()
        self._counters = {
            (tier, outcome): metrics.CACHE_REQUESTS.labels(tier.value, outcome)
            for tier in Tier
            for outcome in ("hit", "miss")
        }

    def key(self, tier: Tier, key: str) -> str:
        return self._prefixes[tier] + key

    def start(self) -> None:
        """Begin listening for invalidations, which turns the near cache on."""
        self.near.start()

    async def close(self) -> None:
        renewals = list(self._renewals.values())
        for task in renewals:
            task.cancel()
        await asyncio.gather(*renewals, return_exceptions=True)
        await self.near.close()

    async def get(self, tier: Tier, key: str) -> bytes | None:
        found = await self.get_many(tier, [key])
        return found.get(key)

    async def get_many(
        self, tier: Tier, keys: Iterable[str], *, near_seconds: float | None = None
    ) -> dict[str, bytes]:
        """The cached values of `keys` that are present, in one round trip. `near_seconds`
        bounds the near copies of what Redis answered, for entries written with a short
        time to live (whose remaining life is not known here)."""
        found, _ = await self._lookup(tier, keys, near_seconds, lives=False)
        return found

    async def _lookup(
        self, tier: Tier, keys: Iterable[str], near_seconds: float | None, *, lives: bool
    ) -> tuple[dict[str, bytes], dict[str, int]]:
        """The values present, and with `lives` the milliseconds left to live of those
        Redis answered (near copies answer for themselves)."""
        prefix = self._prefixes[tier]
        full = {prefix + k: k for k in keys}
        found: dict[str, bytes] = {}
        left: dict[str, int] = {}
        if not full:
            return found, left
        near = self.near if tier in self._near_tiers and self.near.enabled else None
        if near is not None:
            for full_key, key in full.items():
                value = near.get(full_key)
                if value is not None:
                    found[key] = value
        remote = [f for f, k in full.items() if k not in found]
        if remote and await self._usable():
            try:
                if lives:
                    flat: list[Any] = await self._get_all_with_ttl(keys=remote)
                    values, milliseconds = flat[0::2], flat[1::2]
                else:
                    values = await self.redis.mget(remote)
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                fetched = [(f, v) for f, v in zip(remote, values, strict=True) if v is not None]
                found.update((full[f], v) for f, v in fetched)
                if lives:
                    left = {
                        full[f]: ms
                        for f, v, ms in zip(remote, values, milliseconds, strict=True)
                        if v is not None
                    }
                if near is not None:
                    near.put(fetched, near_seconds)
        self._count(tier, hits=len(found), misses=len(full) - len(found))
        return found, left

    async def set(
        self, tier: Tier, key: str, value: bytes, *, ttl_seconds: int | None = None
    ) -> None:
        await self.set_many(tier, {key: value}, ttl_seconds=ttl_seconds)

    async def set_many(
        self,
        tier: Tier,
        items: Mapping[str, bytes],
        *,
        ttl_seconds: int | None = None,
        near_seconds: float | None = None,
    ) -> None:
        """Write `items` for the tier's time to live, or `ttl_seconds` when an entry must
        be believed for less (a status whose change should show within seconds);
        `near_seconds` bounds the near copies further (entries a read renews once they
        are that old: a near copy would answer for itself until the end)."""
        if not items or not await self._usable():
            return
        ttl = ttl_seconds or tier.ttl_seconds
        prefix = self._prefixes[tier]
        full = {prefix + k: v for k, v in items.items()}
        try:
            if len(full) == 1:
                [(key, value)] = full.items()
                await self.redis.set(key, value, ex=ttl)
            else:
                await self._set_all(keys=list(full), args=[ttl, *full.values()])
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return
        self._keep_near(tier, full.items(), ttl, near_seconds)

    async def delete(self, tier: Tier, *keys: str) -> None:
        """Invalidate here and in every process; if Redis cannot be told now, it is told
        before the next read."""
        prefix = self._prefixes[tier]
        full = [prefix + k for k in keys]
        if not full:
            return
        self.near.drop(full)
        self._pending_deletes.update(full)
        await self._usable()

    async def get_or_load(
        self, tier: Tier, key: str, loader: Loader, *, ttl_seconds: int | None = None
    ) -> bytes | None:
        """Cache-aside for one key: one loader call per key at a time in this process,
        however many ask (`get_many_or_load` with a batch of one)."""

        async def load(_keys: list[str]) -> dict[str, bytes]:
            value = await loader()
            return {} if value is None else {key: value}

        found = await self.get_many_or_load(tier, [key], load, ttl_seconds=ttl_seconds)
        return found.get(key)

    async def get_many_or_load(
        self,
        tier: Tier,
        keys: Iterable[str],
        loader: BatchLoader,
        *,
        ttl_seconds: int | None = None,
        near_seconds: float | None = None,
        renew_seconds: float = 0.0,
        cacheable: Callable[[bytes], bool] | None = None,
    ) -> dict[str, bytes]:
        """Cache-aside for a batch: the cached values, and the others from `loader` (given
        the missing keys, answering those it can), written back (those `cacheable` allows;
        all by default). Single-flight per key: a key that another call in this process is
        loading is awaited, not loaded again, so entries written together and expiring
        together bring one load, not one per reader.
        The loader's failure is raised to every caller that waited on it.

        `renew_seconds` > 0: an entry Redis has for less than that is answered as it is
        and loaded again in the background, so an entry read often is renewed before it
        expires, and no reader waits for its load. A tier renews one batch at a time (the
        due entries of the read that finds none out): entries written together come due
        together, and their renewals all at once stalled the reads around them (a
        benchmark's batch reads of 100 posts went from 7 ms at p99 to over 80)."""
        load = _Load(tier, loader, ttl_seconds, near_seconds, cacheable)
        wanted = list(dict.fromkeys(keys))
        found, left = await self._lookup(tier, wanted, near_seconds, lives=renew_seconds > 0)
        prefix = self._prefixes[tier]
        if tier not in self._renewals:
            due = [
                key
                for key, ms in left.items()
                if 0 <= ms < renew_seconds * 1000 and prefix + key not in self._inflight
            ]
            if due:
                self._renew(load, due)
        missing = [key for key in wanted if key not in found]
        waiting = {key: self._inflight.get(prefix + key) for key in missing}
        mine = [key for key, future in waiting.items() if future is None]
        if mine:
            found.update(await self._load_batch(load, mine))
        for key, future in waiting.items():
            if future is None:
                continue
            try:
                value = await asyncio.shield(future)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not future.cancelled() or (task is not None and task.cancelling()):
                    raise
                # The call loading it was cancelled: load it here instead.
                value = (await self._load_batch(load, [key])).get(key)
            if value is not None:
                found[key] = value
        return found

    def _renew(self, load: _Load, keys: list[str]) -> None:
        """Load `keys` again in a task of its own, outside the reader's context (its
        deadline and request id are not the renewal's); a failure leaves the entries to
        expire."""

        async def renew() -> dict[str, bytes]:
            try:
                return await self._load_batch(load, keys)
            except Exception as exc:
                log.warning("cache entries not renewed", tier=load.tier.value, error=repr(exc))
                return {}

        task = asyncio.create_task(renew(), context=contextvars.Context())
        self._renewals[load.tier] = task
        task.add_done_callback(lambda _: self._renewals.pop(load.tier, None))

    async def _load_batch(self, load: _Load, keys: list[str]) -> dict[str, bytes]:
        """`keys` loaded and written back (those whose fence the load did not see move),
        each announced in flight while it loads."""
        loop = asyncio.get_running_loop()
        futures = {self.key(load.tier, key): loop.create_future() for key in keys}
        self._inflight.update(futures)
        try:
            started = time.monotonic()
            fences = await self._fences(list(futures))
            values = dict(await load.loader(keys))
            if fences is not None and time.monotonic() - started < FENCE_SECONDS:
                await self._write_back(load, values, fences)
        except BaseException as exc:
            for future in futures.values():
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
                    future.exception()  # retrieved: waiters, if any, see it through shield
            raise
        else:
            for key, future in zip(keys, futures.values(), strict=True):
                future.set_result(values.get(key))
            return values
        finally:
            for full, future in futures.items():
                if self._inflight.get(full) is future:
                    del self._inflight[full]

    async def _fences(self, full_keys: list[str]) -> dict[str, str] | None:
        """Each key's fence now ('' for none), or None when Redis cannot say (the load is
        then not written back)."""
        if not await self._usable():
            return None
        try:
            found: list[Any] = await self.redis.mget([cache_scripts.fence(k) for k in full_keys])
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        return {k: (f or b"").decode() for k, f in zip(full_keys, found, strict=True)}

    async def _write_back(
        self, load: _Load, values: Mapping[str, bytes], fences: dict[str, str]
    ) -> None:
        """Write what the load found (what `cacheable` allows) where no invalidation has
        moved the fence since the load began; near copies of what was written."""
        prefix = self._prefixes[load.tier]
        items = {
            prefix + k: v for k, v in values.items() if load.cacheable is None or load.cacheable(v)
        }
        if not items or not await self._usable():
            return
        ttl = load.ttl_seconds or load.tier.ttl_seconds
        full = list(items)
        try:
            written: list[bytes] = await self._set_unfenced(
                keys=[*full, *map(cache_scripts.fence, full)],
                args=[ttl, *items.values(), *(fences[k] for k in full)],
            )
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return
        kept = [(k, items[k]) for k in map(bytes.decode, written)]
        self._keep_near(load.tier, kept, ttl, load.near_seconds)

    def _keep_near(
        self,
        tier: Tier,
        items: Iterable[tuple[str, bytes]],
        ttl: int,
        near_seconds: float | None,
    ) -> None:
        """Near copies of what was just written, if the tier has them: for no longer than
        it lives in Redis, nor than `near_seconds`."""
        if tier in self._near_tiers:
            self.near.put(items, min(ttl, near_seconds or ttl))

    async def _usable(self) -> bool:
        if time.monotonic() < self._down_until:
            return False
        if self._pending_deletes:
            return await self._flush_deletes()
        return True

    async def _flush_deletes(self) -> bool:
        keys = list(self._pending_deletes)
        if not keys:
            return True
        try:
            await self._invalidate(
                keys=[self._fence_counter, *keys, *map(cache_scripts.fence, keys)],
                args=[FENCE_SECONDS, self.near.channel, "\n".join(keys)],
            )
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return False
        self._pending_deletes.difference_update(keys)
        return True

    def _failed(self, exc: BaseException) -> None:
        metrics.CACHE_ERRORS.inc()
        self._down_until = time.monotonic() + BACKOFF_SECONDS
        log.warning("redis unavailable; answering without the cache", error=str(exc))

    def _count(self, tier: Tier, *, hits: int, misses: int) -> None:
        if hits:
            self._counters[tier, "hit"].inc(hits)
            self.stats[tier.value, "hit"] += hits
        if misses:
            self._counters[tier, "miss"].inc(misses)
            self.stats[tier.value, "miss"] += misses
