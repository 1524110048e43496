"""What the moderation service's logic modules share, built once per process, and who is
calling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.moderation.audit import AuditEntry
from services.moderation.peers import Peers
from services.moderation.settings import ModerationSettings
from shared.auth import Principal, Role, TokenService
from shared.db import Database
from shared.errors import PermissionDenied
from shared.ratelimit import RateLimiter
from shared.server import Runtime


@dataclass(frozen=True)
class Deps:
    db: Database
    settings: ModerationSettings
    peers: Peers
    report_limiter: RateLimiter
    # Signs the tokens users is asked with as the moderator who decided.
    tokens: TokenService

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Deps:
        settings = runtime.settings
        assert isinstance(settings, ModerationSettings)
        limiter = RateLimiter(
            runtime.cache, "reports", settings.report_limit, settings.report_window_seconds
        )
        peers = Peers(runtime.client("users"), runtime.client("content"))
        return cls(runtime.db, settings, peers, limiter, runtime.tokens)

    async def close(self) -> None:
        await self.peers.close()


@dataclass(frozen=True)
class Caller:
    """Who is calling, and from where, as the audit log records it."""

    principal: Principal
    request_id: str = ""
    peer: str = ""
    # The caller's own access token, to ask other services as them.
    token: str = ""

    @property
    def user_id(self) -> uuid.UUID:
        """The calling user; services report, appeal and moderate nothing themselves."""
        if self.principal.role is Role.SERVICE:
            raise PermissionDenied("this call is for signed-in users", reason="USER_REQUIRED")
        return self.principal.user_id

    @property
    def is_admin(self) -> bool:
        return self.principal.role is Role.ADMIN

    def audit(
        self,
        action: str,
        target_kind: str,
        target_id: object,
        reason: str = "",
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """An audit entry of an action this caller took here."""
        return AuditEntry(
            actor=self.principal.subject,
            actor_role=self.principal.role.value,
            action=action,
            target_kind=target_kind,
            target_id=str(target_id),
            reason=reason,
            before=before,
            after=after,
            request_id=self.request_id,
            peer=self.peer,
            occurred_at=at or now(),
        )


def now() -> datetime:
    return datetime.now(UTC)
