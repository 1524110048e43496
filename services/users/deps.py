"""What the users service's logic modules share, built once per process."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from services.users import repository_sessions
from services.users.passwords import Passwords
from services.users.settings import UsersSettings
from shared.auth import Principal
from shared.cache import Cache
from shared.db import Database
from shared.errors import PermissionDenied, Unauthenticated
from shared.ratelimit import RateLimiter
from shared.server import Runtime


@dataclass(frozen=True)
class Deps:
    db: Database
    cache: Cache
    runtime: Runtime
    settings: UsersSettings
    passwords: Passwords
    login_failures: RateLimiter

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Deps:
        settings = runtime.settings
        assert isinstance(settings, UsersSettings)
        return cls(
            db=runtime.db,
            cache=runtime.cache,
            runtime=runtime,
            settings=settings,
            passwords=Passwords(
                settings.password_time_cost,
                settings.password_memory_kib,
                settings.password_parallelism,
            ),
            login_failures=RateLimiter(
                runtime.cache,
                "login-failures",
                settings.login_failure_limit,
                settings.login_failure_window_seconds,
            ),
        )

    async def require_live_session(self, principal: Principal) -> None:
        """A user's token is only as good as its session: refuse one whose session was ended."""
        if principal.session_id is None:
            return
        async with self.db.connection() as conn:
            live = await repository_sessions.session_is_live(
                conn, uuid.UUID(principal.session_id), now()
            )
        if not live:
            raise Unauthenticated("this session has ended", reason="SESSION_REVOKED")


def now() -> datetime:
    return datetime.now(UTC)


def require_user(principal: Principal) -> uuid.UUID:
    """The calling user's id; services have no account of their own."""
    if principal.session_id is None:
        raise PermissionDenied("this call is for signed-in users", reason="USER_REQUIRED")
    return principal.user_id
