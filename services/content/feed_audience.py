"""Audiences: for each author, those of their followers whose feed may exist (in the
feed store's `ACTIVE`), the only feeds the fan-out writes their posts to.

An audience is found once from social (every follower, checked against `ACTIVE` in one
script call) and then kept up by the feeds and follows that join it, so a post costs
social nothing and Redis only its audience (finding 5,000 followers for every post cost
social, its database and Redis more CPU than all the rest of the post). It is marked as
being built before social is asked, so a follow or a feed built meanwhile joins it. A
reader joins the audiences of everyone they follow once in `ACTIVE` (`FeedStore.begin_build`)
and after asking whom they follow, and of a new followee when the follow's event finds
their feed kept; so whichever of a follow and an audience's first reading comes first,
the other sees it. Readers who have left `ACTIVE` are pruned as the audience is read, in
the same script that checks them (one who comes back joins again after being added to
`ACTIVE`); an ended follow leaves it. An audience expires `AUDIENCE_SECONDS` after it
was found, and is found again from social by the next post.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from redis.asyncio import Redis

from services.content.feed_store import (
    ACTIVE,
    ACTIVE_HELPERS,
    BUILDING_SECONDS,
    ONLY_BUILT_OR_BUILDING,
    building_key,
    in_chunks,
)

# How long an audience is kept once found: it is found from social again this often, so a
# reader it lacks for whatever reason is in it again within the hour.
AUDIENCE_SECONDS = 3600

# An audience is a sorted set: its readers scored 1, the built marker 0. The Lua helper
# gives those of its readers in ACTIVE, and prunes the others.
_AUDIENCE_HELPERS = (
    ACTIVE_HELPERS
    + """
local function audience(key, active)
  local readers = redis.call('ZRANGEBYSCORE', key, 1, '+inf')
  local found = active_among(active, readers)
  if #found < #readers then
    local kept = {}
    for _, id in ipairs(found) do
      kept[id] = true
    end
    for _, id in ipairs(readers) do
      if not kept[id] then
        redis.call('ZREM', key, id)
      end
    end
  end
  return found
end
"""
)

# KEYS[1] the audience, KEYS[2] ACTIVE; ARGV[1] the score below which users are dropped
# from ACTIVE. {0} for an audience not built, else {1, its readers in ACTIVE}.
_AUDIENCE = (
    _AUDIENCE_HELPERS
    + """
if redis.call('ZSCORE', KEYS[1], 'built') == false then
  return {0}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
return {1, audience(KEYS[1], KEYS[2])}
"""
)

# KEYS[1] the audience, KEYS[2] its building marker, KEYS[3] ACTIVE; ARGV[1] the author's
# followers' ids joined by commas, ARGV[2] as _AUDIENCE's, ARGV[3] its lifetime (seconds).
# Its readers in ACTIVE, those who joined while it was built among them.
_COMPLETE_AUDIENCE = (
    _AUDIENCE_HELPERS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])
for _, id in ipairs(active_among(KEYS[3], split(ARGV[1]))) do
  redis.call('ZADD', KEYS[1], 1, id)
end
redis.call('ZADD', KEYS[1], 0, 'built')
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('DEL', KEYS[2])
return audience(KEYS[1], KEYS[3])
"""
)

# KEYS: (audience, its building marker) pairs; ARGV[1] the reader, ARGV[2] the lifetime of an
# audience that has none yet (one being built).
_JOIN = (
    ONLY_BUILT_OR_BUILDING
    + """
for k = 1, #KEYS, 2 do
  if built_or_building(KEYS[k], KEYS[k + 1]) then
    redis.call('ZADD', KEYS[k], 1, ARGV[1])
    if redis.call('TTL', KEYS[k]) < 0 then
      redis.call('EXPIRE', KEYS[k], ARGV[2])
    end
  end
end
"""
)


def audience_key(author: str) -> str:
    """Those of `author`'s followers whose feed may exist: whom their posts fan out to."""
    return f"content:audience:{author}"


class Audiences:
    def __init__(self, redis: Redis, horizon: Callable[[], float]) -> None:
        """`horizon`: the score below which users are dropped from ACTIVE."""
        self._redis = redis
        self._horizon = horizon
        self._read = redis.register_script(_AUDIENCE)
        self._complete = redis.register_script(_COMPLETE_AUDIENCE)
        self._join = redis.register_script(_JOIN)

    async def readers(self, author: str) -> list[str] | None:
        """The readers `author`'s posts go to (those in `ACTIVE`), or None when the audience
        is not kept: to be found (`begin`, `complete`)."""
        answer = await self._read(keys=[audience_key(author), ACTIVE], args=[self._horizon()])
        return [name.decode() for name in answer[1]] if answer[0] else None

    async def begin(self, author: str) -> None:
        """From now on readers join the author's audience: before asking for their followers."""
        await self._redis.set(building_key(audience_key(author)), 1, ex=BUILDING_SECONDS)

    async def complete(self, author: str, followers: Sequence[str]) -> list[str]:
        """Keep the author's audience: those of `followers` in `ACTIVE`, with those who
        joined since `begin`; its readers."""
        key = audience_key(author)
        found = await self._complete(
            keys=[key, building_key(key), ACTIVE],
            args=[",".join(followers), self._horizon(), AUDIENCE_SECONDS],
        )
        return [name.decode() for name in found]

    async def join(self, reader: str, authors: Sequence[str]) -> None:
        """Put the reader in each of these authors' audiences that is kept or being built."""
        keys = [(audience_key(a), building_key(audience_key(a))) for a in authors]
        await in_chunks(self._redis, self._join, keys, [reader, AUDIENCE_SECONDS])

    async def leave(self, reader: str, author: str) -> None:
        await self._redis.zrem(audience_key(author), reader)
