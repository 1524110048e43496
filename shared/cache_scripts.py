"""The Lua scripts of the Redis cache (shared/cache.py): each batch of writes, reads or
invalidations it sends as one command."""

# Every KEYS[i] set to ARGV[i + 1], to live ARGV[1] seconds: a batch written as one
# command. A pipeline of SETs costs the client about six times as much CPU (measured with
# 40 keys: 1.9 ms against 0.33 ms), since redis-py builds and packs each command apart.
SET_ALL = """
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
end
"""

# Invalidation: KEYS[1] is the namespace's fence counter, then n keys, then their n fences.
# Each key is deleted and its fence set to the next number, alive ARGV[1] seconds; ARGV[3]
# (the keys) is published on channel ARGV[2] for the near caches.
INVALIDATE = """
local n = (#KEYS - 1) / 2
local fence = redis.call('INCR', KEYS[1])
for i = 2, n + 1 do
  redis.call('DEL', KEYS[i])
  redis.call('SET', KEYS[n + i], fence, 'EX', ARGV[1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
"""

# A load's write-back: KEYS are n keys then their n fences; ARGV[1] the time to live,
# then the n values, then each fence as the load read it before it started ('' for
# none). Writes the keys whose fence is unchanged and answers them.
SET_UNFENCED = """
local n = #KEYS / 2
local written = {}
for i = 1, n do
  if (redis.call('GET', KEYS[n + i]) or '') == ARGV[n + 1 + i] then
    redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[1])
    written[#written + 1] = KEYS[i]
  end
end
return written
"""

# Each of KEYS's value and its milliseconds left to live, in one command: what a batch
# read that renews entries ahead of their expiry needs to know.
GET_ALL_WITH_TTL = """
local answer = {}
for i, key in ipairs(KEYS) do
  answer[2 * i - 1] = redis.call('GET', key)
  answer[2 * i] = redis.call('PTTL', key)
end
return answer
"""


def fence(full_key: str) -> str:
    """The key of a cache key's fence (INVALIDATE sets it, SET_UNFENCED checks it)."""
    return "fence:" + full_key
