"""Visibility set by moderation: hidden or removed content leaves every read but staff's."""

from __future__ import annotations

import uuid

from daira.content.v1 import content_pb2 as pb
from services.content import convert, repository, repository_comments, repository_videos, validation
from services.content.deps import Deps, now
from shared.errors import InvalidArgument, NotFound


class Moderation:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def set_visibility(
        self, kind: int, target_id: uuid.UUID, state: int, reason: str
    ) -> None:
        name = convert.MODERATION_NAMES.get(state)  # type: ignore[call-overload]
        if name is None:
            raise InvalidArgument("state", "must be VISIBLE, HIDDEN or REMOVED")
        reason = validation.bounded_text("reason", reason, validation.REASON_MAX)
        moment = now()
        async with self._deps.db.transaction() as conn:
            if kind == pb.TARGET_KIND_POST:
                found = await repository.set_post_moderation(conn, target_id, name, reason, moment)
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
