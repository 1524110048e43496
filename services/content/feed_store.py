"""Home feeds in Redis: per user, a sorted set of post ids scored by creation time (in
microseconds), capped at `size` entries, with a marker member that says the feed was built
(so an empty feed is not mistaken for a missing one); and the set of celebrity accounts
they follow, whose posts are merged in at read time instead of fanned out.

Fan-out adds to feeds that exist only: a missing feed is rebuilt whole from the database
on its next read, so writing one post into it would make a partial feed look complete.
Every read extends the keys' life; a feed not read for `idle_seconds` expires.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

# Score 0, below every post: trims skip rank 0 and reads start above it.
BUILT = "built"
CELEBRITIES = "content:celebrities"

# KEYS[1] the feed; ARGV: cap, then (score, post id) pairs. Adds only to a built feed.
_ADD = """
if redis.call('ZSCORE', KEYS[1], 'built') == false then
  return 0
end
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 1, -(tonumber(ARGV[1]) + 1))
return 1
"""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def score(created_at: datetime) -> int:
    """A post's place in a feed: its creation time in whole microseconds, exactly."""
    return (created_at - _EPOCH) // _MICROSECOND


def moment(entry_score: int) -> datetime:
    return _EPOCH + entry_score * _MICROSECOND


def feed_key(user: uuid.UUID | str) -> str:
    return f"content:feed:{user}"


def celebrities_key(user: uuid.UUID | str) -> str:
    """The celebrities `user` follows."""
    return f"content:feed-celebrities:{user}"


class FeedStore:
    def __init__(self, redis: Redis, size: int, idle_seconds: int) -> None:
        self._redis = redis
        self._size = size
        self._idle = idle_seconds
        self._add = redis.register_script(_ADD)

    async def add(
        self, users: Iterable[uuid.UUID | str], entries: Sequence[tuple[int, str]]
    ) -> None:
        """Put the (score, post id) entries in each of these users' feeds that exist."""
        args: list[int | str] = [self._size]
        for entry_score, post_id in entries:
            args += [entry_score, post_id]
        async with self._redis.pipeline(transaction=False) as pipe:
            for user in users:
                await self._add(keys=[feed_key(user)], args=args, client=pipe)
            await pipe.execute()

    async def remove(self, users: Iterable[uuid.UUID | str], post_ids: Sequence[str]) -> None:
        if not post_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.zrem(feed_key(user), *post_ids)
            await pipe.execute()

    async def page(
        self, user: uuid.UUID, below: int | None, count: int
    ) -> tuple[list[tuple[int, str]], set[str]] | None:
        """Up to `count` entries scored at or below `below` (newest first) and the
        celebrities `user` follows; None when the feed is not built."""
        key, celebrities = feed_key(user), celebrities_key(user)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zscore(key, BUILT)
            pipe.zrevrangebyscore(
                key, "+inf" if below is None else below, 1, start=0, num=count, withscores=True
            )
            pipe.smembers(celebrities)
            pipe.expire(key, self._idle)
            pipe.expire(celebrities, self._idle)
            built, entries, followed, *_ = await pipe.execute()
        if built is None:
            return None
        return (
            [(int(s), member.decode()) for member, s in entries],
            {member.decode() for member in followed},
        )

    async def build(
        self, user: uuid.UUID, entries: Sequence[tuple[int, str]], celebrities: Iterable[str]
    ) -> None:
        """Replace the user's feed and celebrity set, in one transaction."""
        key, followed = feed_key(user), celebrities_key(user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key, followed)
            pipe.zadd(key, {BUILT: 0, **{post_id: s for s, post_id in entries[: self._size]}})
            names = list(celebrities)
            if names:
                pipe.sadd(followed, *names)
                pipe.expire(followed, self._idle)
            pipe.expire(key, self._idle)
            await pipe.execute()

    async def follow_celebrity(self, users: Sequence[uuid.UUID | str], celebrity: str) -> None:
        """Merge `celebrity`'s posts into these users' feeds that exist, from now on."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.zscore(feed_key(user), BUILT)
            built = await pipe.execute()
        async with self._redis.pipeline(transaction=False) as pipe:
            for user, marker in zip(users, built, strict=True):
                if marker is not None:
                    pipe.sadd(celebrities_key(user), celebrity)
            await pipe.execute()

    async def unfollow_celebrity(self, user: uuid.UUID | str, celebrity: str) -> None:
        await self._redis.srem(celebrities_key(user), celebrity)

    async def mark_celebrity(self, author: str) -> bool:
        """Whether `author` was not known as a celebrity until now."""
        return bool(await self._redis.sadd(CELEBRITIES, author))

    async def is_celebrity(self, author: str) -> bool:
        return bool(await self._redis.sismember(CELEBRITIES, author))
