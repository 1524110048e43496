"""SQL of videos: creation, state transitions, and views counted on striped rows.

A state change is one conditional `UPDATE … WHERE state = expected`, so two racing
transitions cannot both win. Views are not one hot counter: each view adds one to a
random slot of video_view_counters (N rows per video), and a video's view count is
the sum over its slots, read in the same statement as the video.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, SmallInteger, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.content.repository import Record
from services.content.tables import video_view_counters, videos
from shared import keyset

# A video whose author's account was deleted is in no read and takes no change.
LIVE_VIDEO = videos.c.deleted_at.is_(None)
VIEW_COUNT = (
    select(func.coalesce(func.sum(video_view_counters.c.views), 0))
    .where(video_view_counters.c.video_id == videos.c.id)
    .correlate(videos)
    .scalar_subquery()
    .label("view_count")
)
VIDEO_COLUMNS = (
    videos.c.id,
    videos.c.author_id,
    videos.c.title,
    videos.c.description,
    videos.c.state,
    videos.c.hls_url,
    videos.c.thumbnail_url,
    videos.c.duration_us,
    videos.c.resolution,
    videos.c.failure_reason,
    videos.c.moderation_state,
    videos.c.created_at,
    videos.c.updated_at,
    VIEW_COUNT,
)


async def find_video_by_request(
    conn: AsyncConnection, author_id: uuid.UUID, request_id: str
) -> Record | None:
    statement = select(*VIDEO_COLUMNS, videos.c.request_digest).where(
        videos.c.author_id == author_id, videos.c.request_id == request_id
    )
    return (await conn.execute(statement)).one_or_none()


async def insert_video(conn: AsyncConnection, **values: Any) -> Record | None:
    """The video in state uploading; None if its author already used this request id."""
    statement = (
        insert(videos)
        .values(**values, state="uploading", moderation_state="visible", moderation_reason="")
        .on_conflict_do_nothing(
            index_elements=[videos.c.author_id, videos.c.request_id],
            index_where=videos.c.request_id.is_not(None),
        )
        .returning(*VIDEO_COLUMNS)
    )
    return (await conn.execute(statement)).one_or_none()


async def get_video(conn: AsyncConnection, video_id: uuid.UUID) -> Record | None:
    statement = select(*VIDEO_COLUMNS).where(videos.c.id == video_id, LIVE_VIDEO)
    return (await conn.execute(statement)).one_or_none()


async def transition(
    conn: AsyncConnection, video_id: uuid.UUID, expected: str, values: dict[str, Any]
) -> Record | None:
    """Apply `values` if the video is still in state `expected`; None if it is not."""
    result = await conn.execute(
        update(videos)
        .where(videos.c.id == video_id, videos.c.state == expected, LIVE_VIDEO)
        .values(**values)
        .returning(*VIDEO_COLUMNS)
    )
    return result.one_or_none()


async def record_view(conn: AsyncConnection, video_id: uuid.UUID, slot: int) -> bool:
    """One more view on a slot of a published, visible video; False if it is not one."""
    viewable = select(videos.c.id, literal(slot, SmallInteger), literal(1, BigInteger)).where(
        videos.c.id == video_id,
        videos.c.state == "published",
        videos.c.moderation_state == "visible",
        LIVE_VIDEO,
    )
    statement = (
        insert(video_view_counters)
        .from_select(["video_id", "slot", "views"], viewable)
        .on_conflict_do_update(
            index_elements=[video_view_counters.c.video_id, video_view_counters.c.slot],
            set_={"views": video_view_counters.c.views + 1},
        )
        .returning(video_view_counters.c.video_id)
    )
    return (await conn.execute(statement)).one_or_none() is not None


async def set_video_moderation(
    conn: AsyncConnection, video_id: uuid.UUID, values: dict[str, Any]
) -> bool:
    result = await conn.execute(
        update(videos)
        .where(videos.c.id == video_id, LIVE_VIDEO)
        .values(**values)
        .returning(videos.c.id)
    )
    return result.one_or_none() is not None


def user_videos_query(
    author_id: uuid.UUID, published_only: bool, moderated_too: bool, after: keyset.After, limit: int
) -> keyset.Query:
    """An author's videos, newest first, on videos_author."""
    statement = _user_videos(published_only, moderated_too, after is not None)
    return statement, keyset.values(after, limit, {"author_id": author_id})


@functools.cache
def _user_videos(published_only: bool, moderated_too: bool, paged: bool) -> Select[Any]:
    statement = select(*VIDEO_COLUMNS).where(
        videos.c.author_id == bindparam("author_id", type_=UUID(as_uuid=True)), LIVE_VIDEO
    )
    if published_only:
        statement = statement.where(videos.c.state == "published")
    if not moderated_too:
        statement = statement.where(videos.c.moderation_state == "visible")
    if paged:
        types = (videos.c.created_at.type, UUID(as_uuid=True))
        statement = statement.where(
            keyset.past((videos.c.created_at, videos.c.id), types, newest=True)
        )
    return statement.order_by(videos.c.created_at.desc(), videos.c.id.desc()).limit(keyset.LIMIT)


async def delete_videos_of(conn: AsyncConnection, author_id: uuid.UUID, now: datetime) -> None:
    """Soft-delete every video of the author, on videos_author."""
    await conn.execute(
        update(videos)
        .where(videos.c.author_id == author_id, LIVE_VIDEO)
        .values(deleted_at=now, updated_at=now)
    )
