"""Fixed-window rate limits counted in Redis, with an in-process count while Redis is down.

The fallback keeps a limit in force during an outage (per process rather than
cluster-wide), so an outage never turns rate limiting off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from shared.cache import Cache
from shared.tiers import Tier


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after_seconds: float


class RateLimiter:
    def __init__(self, cache: Cache, name: str, limit: int, window_seconds: int) -> None:
        self._cache = cache
        self._name = name
        self.limit = limit
        self.window_seconds = window_seconds
        self._local: dict[str, tuple[int, int]] = {}

    def _window(self) -> tuple[int, float]:
        now = time.time()
        window = int(now // self.window_seconds)
        return window, (window + 1) * self.window_seconds - now

    async def hit(self, subject: str) -> Verdict:
        """Count one attempt by `subject` in the current window."""
        window, remaining = self._window()
        key = self._cache.key(Tier.RATE_LIMITS, f"{self._name}:{subject}:{window}")
        try:
            async with self._cache.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window_seconds + 1)
                count = int((await pipe.execute())[0])
        except (RedisError, OSError):
            count = self._local_hit(subject, window)
        return Verdict(count <= self.limit, count, remaining)

    async def reset(self, subject: str) -> None:
        window, _ = self._window()
        self._local.pop(subject, None)
        await self._cache.delete(Tier.RATE_LIMITS, f"{self._name}:{subject}:{window}")

    def _local_hit(self, subject: str, window: int) -> int:
        local_window, count = self._local.get(subject, (window, 0))
        count = count + 1 if local_window == window else 1
        self._local[subject] = (window, count)
        return count
