"""A per-process copy of hot cache entries, kept honest by invalidations published in Redis.

Every process subscribes to its service's invalidation channel; a write anywhere
publishes the keys it invalidated, and each process drops its copies. The copy is
used only while the subscription is up: when Redis is unreachable or the
subscription breaks, the copy is cleared and bypassed until it is back, because
invalidations may have been missed meanwhile. A short TTL bounds the one race left
(a reader that fetched the old value just before the invalidation was published).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.logs import get_logger

log = get_logger("daira.nearcache")

RESUBSCRIBE_SECONDS = 1.0
POLL_SECONDS = 1.0


class NearCache:
    def __init__(
        self,
        redis: Redis,
        channel: str,
        ttl_seconds: float,
        max_entries: int = 20_000,
    ) -> None:
        self._redis = redis
        self.channel = channel
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._listener: asyncio.Task[None] | None = None
        self.enabled = False

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, items: Iterable[tuple[str, bytes]], ttl_seconds: float | None = None) -> None:
        """Keep copies for the near TTL, or `ttl_seconds` when that is shorter."""
        if not self.enabled:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        expires = time.monotonic() + min(self._ttl, ttl_seconds or self._ttl)
        for key, value in items:
            self._entries[key] = (expires, value)

    def drop(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    def start(self) -> None:
        if self._ttl > 0 and self._listener is None:
            self._listener = asyncio.create_task(self._listen())

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._disable()

    def _disable(self) -> None:
        self.enabled = False
        self._entries.clear()

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=POLL_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._entries.clear()
                        self.enabled = True
                    elif message["type"] == "message":
                        self.drop(bytes(message["data"]).decode().split("\n"))
            except (RedisError, OSError) as exc:
                if self.enabled:
                    log.warning("near cache off until Redis answers again", error=str(exc))
                self._disable()
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(RESUBSCRIBE_SECONDS)
