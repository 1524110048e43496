"""Home feeds in Redis: per user, a sorted set of post ids scored by creation time (in
microseconds), capped at `size` entries, with a marker member that says the feed was built
(so an empty feed is not mistaken for a missing one); and the set of celebrity accounts
they follow, whose posts are merged in at read time instead of fanned out. Each
celebrity's newest posts are kept the same way (`recent_key`), once for all their
followers, so merging them costs no query.

Fan-out adds to timelines that exist or are being built only: a missing one is rebuilt
whole from the database on its next read, so writing one post into it would make a
partial timeline look complete. A rebuild marks the key as building before it queries,
so a post published meanwhile is either in its query or added by the fan-out.
Every read extends the keys' life; a feed not read for `idle_seconds` expires.

Most followers of an author have no feed kept (they have not read one lately), so the
fan-out writes to the author's audience (`feed_audience`) alone: those of their followers
whose feed may exist. `ACTIVE` holds every user whose feed may exist, by when it was last
read or built; a user is added before their feed is built and on every read, and dropped
only well after their feed has expired; a read that finds its user missing from `ACTIVE`
(the set lost or evicted) rebuilds the feed, which posts may have passed by.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript

from shared.messages import EPOCH

# Score 0, below every post: trims skip rank 0 and reads start above it.
BUILT = "built"
CELEBRITIES = "content:celebrities"
# Users whose feed may exist, scored by the unix time it was last read or built.
ACTIVE = "content:feeds-active"
# How long past a feed's expiry its user stays in ACTIVE (clocks of several processes).
ACTIVE_SLACK_SECONDS = 86400

# Longest a rebuild may take before fan-out stops adding to the timeline it builds.
BUILDING_SECONDS = 60

# Timelines one script call of the fan-out acts on: the calls for thousands of followers
# go in one round trip, yet each holds Redis only a moment, so reads run between them.
SCRIPT_TIMELINES = 500

# Scripts given a timeline and its building marker act only on one that is built or being
# built.
ONLY_BUILT_OR_BUILDING = """
local function built_or_building(timeline, marker)
  return redis.call('ZSCORE', timeline, 'built') ~= false or redis.call('EXISTS', marker) == 1
end
"""

# KEYS: (timeline, its building marker) pairs, every timeline given the same entries in
# one command (a pipeline of one script call per timeline cost the fan-out several times
# as much CPU); ARGV: cap, then (score, post id) pairs.
_ADD = (
    ONLY_BUILT_OR_BUILDING
    + """
for k = 1, #KEYS, 2 do
  if built_or_building(KEYS[k], KEYS[k + 1]) then
    for i = 2, #ARGV, 2 do
      redis.call('ZADD', KEYS[k], ARGV[i], ARGV[i + 1])
    end
    redis.call('ZREMRANGEBYRANK', KEYS[k], 1, -(tonumber(ARGV[1]) + 1))
  end
end
"""
)

# Lua helpers over ACTIVE: those of a table of user ids in it (1,000 a command), and the
# ids in a string of them joined by commas. The ids go as one argument: the client packs
# each argument of a command in Python, and 5,000 of them cost it more than all the rest
# of a post's fan-out.
ACTIVE_HELPERS = """
local function active_among(active, ids)
  local found = {}
  for start = 1, #ids, 1000 do
    local chunk = {unpack(ids, start, math.min(start + 999, #ids))}
    local scores = redis.call('ZMSCORE', active, unpack(chunk))
    for i = 1, #chunk do
      if scores[i] then
        found[#found + 1] = chunk[i]
      end
    end
  end
  return found
end
local function split(joined)
  local ids = {}
  for id in string.gmatch(joined, '[^,]+') do
    ids[#ids + 1] = id
  end
  return ids
end
"""

# KEYS[1] ACTIVE; ARGV[1] user ids joined by commas, ARGV[2] the score below which users are
# dropped from ACTIVE. Those of the users in ACTIVE.
_ACTIVE_AMONG = (
    ACTIVE_HELPERS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
return active_among(KEYS[1], split(ARGV[1]))
"""
)

# KEYS: (feed, its building marker, its celebrity set) triples; ARGV[1] the celebrity.
_FOLLOW_CELEBRITY = (
    ONLY_BUILT_OR_BUILDING
    + """
for k = 1, #KEYS, 3 do
  if built_or_building(KEYS[k], KEYS[k + 1]) then
    redis.call('SADD', KEYS[k + 2], ARGV[1])
  end
end
"""
)

# KEYS[1] the feed, KEYS[2] its celebrity set, KEYS[3] ACTIVE; ARGV: highest score,
# count, idle seconds, recent_key's prefix, the user, now (unix seconds).
# {0} for a feed not built (or whose user was not in ACTIVE, so the fan-out may have passed
# it by: no longer built), else {1, entries, {celebrity, {built 0|1, entries}}...}: the
# feed's page, and each followed celebrity's, in one round trip.
_PAGE = """
if redis.call('ZSCORE', KEYS[1], 'built') == false then
  return {0}
end
if redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5]) == 1 then
  redis.call('ZREM', KEYS[1], 'built')
  return {0}
end
local function newest(key)
  redis.call('EXPIRE', key, ARGV[3])
  return redis.call('ZREVRANGEBYSCORE', key, ARGV[1], 1, 'WITHSCORES', 'LIMIT', 0, ARGV[2])
end
local answer = {1, newest(KEYS[1])}
redis.call('EXPIRE', KEYS[2], ARGV[3])
for _, celebrity in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = ARGV[4] .. celebrity
  if redis.call('ZSCORE', key, 'built') == false then
    table.insert(answer, {celebrity, {0}})
  else
    table.insert(answer, {celebrity, {1, newest(key)}})
  end
end
return answer
"""


_MICROSECOND = timedelta(microseconds=1)


def score(created_at: datetime) -> int:
    """A post's place in a feed: its creation time in whole microseconds, exactly."""
    return (created_at - EPOCH) // _MICROSECOND


def moment(entry_score: int) -> datetime:
    return EPOCH + entry_score * _MICROSECOND


def feed_key(user: uuid.UUID | str) -> str:
    return f"content:feed:{user}"


def celebrities_key(user: uuid.UUID | str) -> str:
    """The celebrities `user` follows."""
    return f"content:feed-celebrities:{user}"


def recent_key(celebrity: uuid.UUID | str) -> str:
    """A celebrity's newest posts (those their followers may see), merged into feeds."""
    return f"content:recent:{celebrity}"


def building_key(timeline: str) -> str:
    return f"{timeline}:building"


Entry = tuple[int, str]  # (score: creation time in µs, post id)


class Page(NamedTuple):
    """A built feed's entries, and for each celebrity it follows their newest entries, or
    None where those are not kept (to be read from the database and kept)."""

    entries: list[Entry]
    celebrities: dict[str, list[Entry] | None]


class FeedStore:
    def __init__(self, redis: Redis, size: int, idle_seconds: int) -> None:
        self._redis = redis
        self._size = size
        self._idle = idle_seconds
        self._add = redis.register_script(_ADD)
        self._follow_celebrity = redis.register_script(_FOLLOW_CELEBRITY)
        self._page = redis.register_script(_PAGE)
        self._active_among = redis.register_script(_ACTIVE_AMONG)

    async def add(self, users: Iterable[uuid.UUID | str], entries: Sequence[Entry]) -> None:
        """Put the (score, post id) entries in each of these users' feeds that exist."""
        await self._add_to([feed_key(user) for user in users], entries)

    async def add_recent(self, celebrity: str, entries: Sequence[Entry]) -> None:
        """Put a celebrity's new entries among their newest, if those are kept."""
        await self._add_to([recent_key(celebrity)], entries)

    async def _add_to(self, timelines: Iterable[str], entries: Sequence[Entry]) -> None:
        args: list[int | str] = [self._size]
        for entry_score, post_id in entries:
            args += [entry_score, post_id]
        keys = [(timeline, building_key(timeline)) for timeline in timelines]
        await in_chunks(self._redis, self._add, keys, args)

    async def remove(self, users: Iterable[uuid.UUID | str], post_ids: Sequence[str]) -> None:
        await self._remove_from([feed_key(user) for user in users], post_ids)

    async def kept(self, users: Iterable[uuid.UUID | str]) -> list[str]:
        """Those of `users` whose feed may exist (in ACTIVE): the others' need no change,
        their next read builds them whole. The long idle are dropped from ACTIVE on the
        way."""
        names = ",".join(str(user) for user in users)
        if not names:
            return []
        found = await self._active_among(keys=[ACTIVE], args=[names, self.horizon()])
        return [name.decode() for name in found]

    def horizon(self) -> float:
        """The score below which users are dropped from ACTIVE."""
        return time.time() - self._idle - ACTIVE_SLACK_SECONDS

    async def remove_recent(self, celebrity: str, post_ids: Sequence[str]) -> None:
        await self._remove_from([recent_key(celebrity)], post_ids)

    async def _remove_from(self, timelines: Iterable[str], post_ids: Sequence[str]) -> None:
        if not post_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for timeline in timelines:
                pipe.zrem(timeline, *post_ids)
            await pipe.execute()

    async def page(self, user: uuid.UUID, below: int | None, count: int) -> Page | None:
        """Up to `count` entries scored at or below `below` (newest first), of the feed and
        of each celebrity `user` follows; None when the feed is not built."""
        keys = [feed_key(user), celebrities_key(user), ACTIVE]
        top = "+inf" if below is None else below
        args = [top, count, self._idle, recent_key(""), str(user), time.time()]
        answer = await self._page(keys=keys, args=args)
        if not answer[0]:
            return None
        celebrities = {
            name.decode(): _entries(kept[1]) if kept[0] else None for name, kept in answer[2:]
        }
        return Page(_entries(answer[1]), celebrities)

    async def begin_build_recent(self, celebrity: str) -> None:
        """From now on the fan-out adds the celebrity's posts to their `recent_key` too."""
        await self._redis.set(building_key(recent_key(celebrity)), 1, ex=BUILDING_SECONDS)

    async def begin_build(self, user: uuid.UUID) -> None:
        """Begin building the user's feed: from now on the fan-out adds to it too, and a
        follow's event finds it kept. Before asking whom they follow."""
        timeline = feed_key(user)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(ACTIVE, {str(user): time.time()})
            pipe.set(building_key(timeline), 1, ex=BUILDING_SECONDS)
            await pipe.execute()

    async def celebrities_among(self, followed: Sequence[uuid.UUID]) -> set[str]:
        """Those of the accounts a user follows that the fan-out has found to be
        celebrities (`mark_celebrity`)."""
        names = [str(account) for account in followed]
        if not names:
            return set()
        marks = await self._redis.smismember(CELEBRITIES, names)
        return {name for name, marked in zip(names, marks, strict=True) if marked}

    async def build(
        self, user: uuid.UUID, entries: Sequence[Entry], celebrities: Iterable[str]
    ) -> None:
        """Complete the user's feed with `entries` and add `celebrities` to its celebrity
        set, in one transaction. What the fan-out added while it was being built stays,
        celebrities included; one no longer followed is filtered out when read."""
        followed = celebrities_key(user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(ACTIVE, {str(user): time.time()})
            names = list(celebrities)
            if names:
                pipe.sadd(followed, *names)
                pipe.expire(followed, self._idle)
            self._complete(pipe, feed_key(user), entries)
            await pipe.execute()

    async def build_recent(self, celebrity: str, entries: Sequence[Entry]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            self._complete(pipe, recent_key(celebrity), entries)
            await pipe.execute()

    def _complete(self, pipe: Pipeline, timeline: str, entries: Sequence[Entry]) -> None:
        pipe.zadd(timeline, {BUILT: 0, **{post_id: s for s, post_id in entries[: self._size]}})
        pipe.zremrangebyrank(timeline, 1, -(self._size + 1))
        pipe.expire(timeline, self._idle)
        pipe.delete(building_key(timeline))

    async def follow_celebrity(self, users: Sequence[uuid.UUID | str], celebrity: str) -> None:
        """Merge `celebrity`'s posts into these users' feeds that exist or are being built,
        from now on."""
        keys = [
            (feed_key(user), building_key(feed_key(user)), celebrities_key(user)) for user in users
        ]
        await in_chunks(self._redis, self._follow_celebrity, keys, [celebrity])

    async def unfollow_celebrity(self, user: uuid.UUID | str, celebrity: str) -> None:
        await self._redis.srem(celebrities_key(user), celebrity)

    async def mark_celebrity(self, author: str) -> bool:
        """Whether `author` was not known as a celebrity until now."""
        return bool(await self._redis.sadd(CELEBRITIES, author))

    async def is_celebrity(self, author: str) -> bool:
        return bool(await self._redis.sismember(CELEBRITIES, author))


async def in_chunks(
    redis: Redis, script: AsyncScript, keys: Sequence[tuple[str, ...]], args: Sequence[Any]
) -> None:
    """`script` run with `args` over groups of `keys` (a timeline's, an audience's),
    SCRIPT_TIMELINES groups a call, every call in one pipeline."""
    if not keys:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for start in range(0, len(keys), SCRIPT_TIMELINES):
            chunk = keys[start : start + SCRIPT_TIMELINES]
            await script(keys=[key for group in chunk for key in group], args=args, client=pipe)
        await pipe.execute()


def _entries(flat: list[Any]) -> list[Entry]:
    """(score, post id) pairs from a WITHSCORES reply of a script: member, score, ..."""
    return [(int(flat[i + 1]), flat[i].decode()) for i in range(0, len(flat), 2)]
