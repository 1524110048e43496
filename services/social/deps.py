"""What the social service's logic modules share, built once per process, and the rules
of who acts for whom."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from services.social.peers import Peers
from services.social.settings import SocialSettings
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import InvalidArgument, PermissionDenied
from shared.server import Runtime


@dataclass(frozen=True)
class Deps:
    db: Database
    settings: SocialSettings
    peers: Peers

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Deps:
        settings = runtime.settings
        assert isinstance(settings, SocialSettings)
        return cls(runtime.db, settings, Peers(runtime.client("users"), runtime.client("content")))

    def slot(self) -> int:
        """A counter slot for one write (see repository: striped counters)."""
        return random.randrange(self.settings.counter_slots)


def now() -> datetime:
    return datetime.now(UTC)


def require_user(principal: Principal) -> uuid.UUID:
    """The calling user's id: relationships are a user's own, services have none."""
    if principal.role is Role.SERVICE:
        raise PermissionDenied("this call is for signed-in users", reason="USER_REQUIRED")
    return principal.user_id


def other_user(principal: Principal, user_id: uuid.UUID) -> uuid.UUID:
    """The caller's id, refusing a relationship with themself."""
    me = require_user(principal)
    if user_id == me:
        raise InvalidArgument("user_id", "must be another user than the caller")
    return me


def privileged(principal: Principal) -> bool:
    """Staff and services see every user's lists."""
    return principal.is_staff or principal.role is Role.SERVICE
