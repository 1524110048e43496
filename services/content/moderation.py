"""Visibility set by moderation: hidden or removed content leaves every read but staff's."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_events_pb2 as events_pb2
from daira.content.v1 import content_pb2 as pb
from services.content import (
    events,
    repository,
    repository_comments,
    repository_videos,
    validation,
)
from services.content.deps import Deps, now
from shared.errors import InvalidArgument, NotFound
from shared.visibility import MODERATION_NAMES


class Moderation:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def set_visibility(
        self, actor: str, kind: int, target_id: uuid.UUID, state: int, reason: str
    ) -> None:
        """`actor`: who asks (moderation's service, or the moderator it acts for)."""
        name = MODERATION_NAMES.get(state)  # type: ignore[call-overload]
        if name is None:
            raise InvalidArgument("state", "must be VISIBLE, HIDDEN or REMOVED")
        reason = validation.bounded_text("reason", reason, validation.REASON_MAX)
        moment = now()
        async with self._deps.db.transaction() as conn:
            if kind == pb.TARGET_KIND_POST:
                found = await self._moderate_post(conn, actor, target_id, name, reason)
                resource = "post"
            elif kind == pb.TARGET_KIND_COMMENT:
                row = await repository_comments.set_comment_moderation(
                    conn, target_id, name, reason
                )
                found, resource = row is not None, "comment"
            elif kind == pb.TARGET_KIND_VIDEO:
                values = {
                    "moderation_state": name,
                    "moderation_reason": reason,
                    "updated_at": moment,
                }
                found = await repository_videos.set_video_moderation(conn, target_id, values)
                resource = "video"
            else:
                raise InvalidArgument("target_kind", "must be POST, COMMENT or VIDEO")
        if not found:
            raise NotFound(resource, str(target_id))
        if kind == pb.TARGET_KIND_POST:
            await self._deps.forget_posts(target_id)

    async def _moderate_post(
        self, conn: AsyncConnection, actor: str, post_id: uuid.UUID, state: str, reason: str
    ) -> bool:
        """Set the post's state, recording its removal from (or return to) every read."""
        post = await repository.lock_post(conn, post_id)
        if post is None:
            return False
        await repository.set_post_moderation(conn, post_id, state, reason, now())
        if post.moderation_state == "visible" and state != "visible":
            removal = events_pb2.POST_REMOVAL_MODERATED
            await events.post_removed(conn, post_id, post.author_id, actor, removal, reason)
        elif post.moderation_state != "visible" and state == "visible":
            await events.post_restored(conn, post_id, post.author_id, actor, reason)
        return True
