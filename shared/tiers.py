"""The cache tiers of the original design, and how long each keeps an entry."""

from __future__ import annotations

import enum


class Tier(enum.Enum):
    """The cache tiers of the original design, each with its time to live."""

    SESSIONS = "sessions"
    FEEDS = "feeds"
    PROFILES = "profiles"
    VECTORS = "vectors"
    RATE_LIMITS = "rate_limits"
    ANALYTICS = "analytics"
    GENERIC = "generic"

    @property
    def ttl_seconds(self) -> int:
        return TTL_SECONDS[self]


TTL_SECONDS = {
    Tier.SESSIONS: 24 * 3600,
    Tier.FEEDS: 3600,
    Tier.PROFILES: 3600,
    Tier.VECTORS: 30 * 24 * 3600,
    Tier.RATE_LIMITS: 60,
    Tier.ANALYTICS: 24 * 3600,
    Tier.GENERIC: 300,
}
