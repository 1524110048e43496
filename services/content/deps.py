"""What the content service's logic modules share, built once per process (who sees
what is `shared.visibility`'s rule)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from services.content.peers import Peers
from services.content.settings import ContentSettings
from shared.auth import Principal, Role
from shared.cache import Cache
from shared.db import Database
from shared.errors import PermissionDenied
from shared.server import Runtime
from shared.tiers import Tier


@dataclass(frozen=True)
class Deps:
    db: Database
    cache: Cache
    runtime: Runtime
    settings: ContentSettings
    peers: Peers

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Deps:
        settings = runtime.settings
        assert isinstance(settings, ContentSettings)

        peers = Peers(
            runtime.client("users"),
            runtime.client("social"),
            runtime.cache,
            settings.social_answers_seconds,
            settings.social_answers_kept_seconds,
        )
        return cls(runtime.db, runtime.cache, runtime, settings, peers)

    async def forget_posts(self, *post_ids: uuid.UUID | str) -> None:
        """Drop cached posts after any write that changes what a read of them shows."""
        await self.cache.delete(POSTS_TIER, *(post_key(p) for p in post_ids))


# Posts are cached whole (as their author sees them) and invalidated on every write;
# the short generic lifetime bounds the damage of an invalidation that got lost.
POSTS_TIER = Tier.GENERIC


def post_key(post_id: uuid.UUID | str) -> str:
    return f"post:{post_id}"


def now() -> datetime:
    return datetime.now(UTC)


def require_user(principal: Principal) -> uuid.UUID:
    """The calling user's id; services author nothing of their own."""
    if principal.role is Role.SERVICE:
        raise PermissionDenied("this call is for signed-in users", reason="USER_REQUIRED")
    return principal.user_id
