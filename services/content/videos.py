"""Videos: idempotent creation, the processing state machine, reads and striped views.

UPLOADING → PROCESSING → PUBLISHED or FAILED, each step one conditional UPDATE on the
expected state; anything else is FAILED_PRECONDITION (INVALID_TRANSITION).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from daira.content.v1 import content_pb2 as pb
from services.content import convert, paging, repository, repository_videos, validation
from services.content.deps import Deps, now, require_user
from shared import pagination
from shared.auth import Principal
from shared.errors import AlreadyExists, FailedPrecondition, NotFound
from shared.ids import new_id
from shared.visibility import is_self, privileged


class Videos:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def create(
        self, principal: Principal, title: str, description: str, request_id: str
    ) -> pb.Video:
        author = require_user(principal)
        title = validation.text("title", title, validation.TITLE_MAX)
        description = validation.bounded_text(
            "description", description, validation.DESCRIPTION_MAX
        )
        key = validation.request_id(request_id)
        digest = validation.digest(title, description)
        moment = now()
        async with self._deps.db.transaction() as conn:
            row = await repository_videos.insert_video(
                conn,
                id=new_id(),
                author_id=author,
                title=title,
                description=description,
                request_id=key,
                request_digest=digest,
                created_at=moment,
                updated_at=moment,
            )
            if row is None:
                assert key is not None
                row = await repository_videos.find_video_by_request(conn, author, key)
                assert row is not None
                if row.request_digest != digest:
                    raise AlreadyExists(
                        "this request_id was used for a different video",
                        reason="REQUEST_ID_REUSED",
                        metadata={"request_id": key},
                    )
        return convert.video(row)

    async def get(self, principal: Principal, video_id: uuid.UUID) -> pb.Video:
        async with self._deps.db.connection() as conn:
            row = await repository_videos.get_video(conn, video_id)
        if row is None or not _sees(principal, row):
            raise NotFound("video", str(video_id))
        return convert.video(row)

    async def list_by_author(
        self, principal: Principal, author_id: uuid.UUID, size: int, token: str
    ) -> tuple[list[pb.Video], str]:
        limit = pagination.page_size(size)
        query = {"videos": str(author_id)}
        after = paging.position(token, query)
        everything = privileged(principal)
        page = repository_videos.user_videos_query(
            author_id,
            published_only=not (everything or is_self(principal, author_id)),
            moderated_too=everything,
            after=after,
            limit=limit + 1,
        )
        async with self._deps.db.connection() as conn:
            rows = await repository.rows_of(conn, page)
        rows, next_token = paging.page(rows, limit, paging.by_time, query)
        return [convert.video(row) for row in rows], next_token

    async def mark_uploaded(self, video_id: uuid.UUID) -> pb.Video:
        return await self._transition(video_id, "uploading", "processing", {})

    async def complete(
        self, video_id: uuid.UUID, request: pb.CompleteVideoProcessingRequest
    ) -> pb.Video:
        values = {
            "hls_url": validation.web_url("hls_url", request.hls_url),
            "thumbnail_url": validation.web_url("thumbnail_url", request.thumbnail_url),
            "duration_us": validation.duration_us("duration", request.duration),
            "resolution": validation.resolution("resolution", request.resolution),
        }
        return await self._transition(video_id, "processing", "published", values)

    async def fail(self, video_id: uuid.UUID, reason: str) -> pb.Video:
        reason = validation.text("reason", reason, validation.REASON_MAX)
        return await self._transition(video_id, "processing", "failed", {"failure_reason": reason})

    async def _transition(
        self, video_id: uuid.UUID, expected: str, target: str, values: dict[str, Any]
    ) -> pb.Video:
        async with self._deps.db.transaction() as conn:
            row = await repository_videos.transition(
                conn, video_id, expected, {**values, "state": target, "updated_at": now()}
            )
            if row is None:
                current = await repository_videos.get_video(conn, video_id)
                if current is None:
                    raise NotFound("video", str(video_id))
                raise FailedPrecondition(
                    f"a {current.state} video cannot become {target}",
                    reason="INVALID_TRANSITION",
                    metadata={"from": current.state, "to": target},
                )
        return convert.video(row)

    async def record_view(self, principal: Principal, video_id: uuid.UUID) -> None:
        """One view, counted exactly on one of the video's striped counter rows."""
        slot = random.randrange(self._deps.settings.video_view_slots)
        async with self._deps.db.transaction() as conn:
            if await repository_videos.record_view(conn, video_id, slot):
                return
            row = await repository_videos.get_video(conn, video_id)
        if row is None or not _sees(principal, row):
            raise NotFound("video", str(video_id))
        raise FailedPrecondition(
            "only a published video can be viewed",
            reason="VIDEO_NOT_PUBLISHED",
            metadata={"state": row.state},
        )


def _sees(principal: Principal, row: Any) -> bool:
    """Unpublished videos: their author and staff; moderated ones: staff only."""
    if privileged(principal):
        return True
    if row.moderation_state != "visible":
        return False
    return row.state == "published" or is_self(principal, row.author_id)
