"""Notifications: made in the transaction of the action behind them, listed, counted, read.

`notify` is what every action calls: social's own, and content's comments, replies and
mentions as their events arrive (`activity`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.social.v1 import social_pb2 as pb
from services.social import convert, paging, repository_notifications
from services.social.deps import Deps, now, require_user
from services.social.repository import Target
from shared.auth import Principal
from shared.errors import NotFound
from shared.ids import new_id, parse_id

UNREAD_COUNT_CAP = 1000


async def notify(
    conn: AsyncConnection,
    recipients: Sequence[uuid.UUID],
    kind: str,
    actor: uuid.UUID,
    target: Target | None = None,
    post_id: uuid.UUID | None = None,
) -> int:
    """Notify each recipient who wants it of the actor's action; how many were notified."""
    unique = list(dict.fromkeys(recipients))
    return await repository_notifications.insert_notifications(
        conn,
        ids=[new_id() for _ in unique],
        recipients=unique,
        kind=kind,
        actor=actor,
        target=target,
        post_id=post_id,
        now=now(),
    )


class Notifications:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def list(
        self, principal: Principal, size: int, token: str, unread_only: bool
    ) -> tuple[list[pb.Notification], str]:
        me = require_user(principal)
        rows, next_token = await paging.newest_first(
            self._deps.db,
            repository_notifications.UNREAD_NOTIFICATIONS
            if unread_only
            else repository_notifications.NOTIFICATIONS,
            {"owner": me},
            "id",
            {"notifications": str(me), "unread_only": unread_only},
            size,
            token,
        )
        return [convert.notification(row) for row in rows], next_token

    async def count_unread(self, principal: Principal) -> tuple[int, bool]:
        """The unread count, and whether it reached the cap (there may be more)."""
        me = require_user(principal)
        params = {"recipient": me, "cap": UNREAD_COUNT_CAP + 1}
        async with self._deps.db.connection() as conn:
            count = int(await conn.scalar(repository_notifications.COUNT_UNREAD, params) or 0)
        return min(count, UNREAD_COUNT_CAP), count > UNREAD_COUNT_CAP

    async def mark_read(self, principal: Principal, up_to_id: str) -> int:
        me = require_user(principal)
        up_to = parse_id("up_to_id", up_to_id) if up_to_id else None
        async with self._deps.db.transaction() as conn:
            bound = None
            if up_to is not None:
                bound = await repository_notifications.position(conn, me, up_to)
                if bound is None:
                    raise NotFound("notification", str(up_to))
            return await repository_notifications.mark_read(conn, me, bound, now())
