"""Rows to protobuf messages and back: enums, timestamps, etags and read masks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.protobuf import duration_pb2, field_mask_pb2

from daira.content.v1 import content_pb2 as pb
from services.content.repository import Record
from shared.errors import InvalidArgument
from shared.messages import etag, timestamp
from shared.visibility import MODERATION, VISIBILITIES

VIDEO_STATES = {
    "uploading": pb.VIDEO_STATE_UPLOADING,
    "processing": pb.VIDEO_STATE_PROCESSING,
    "published": pb.VIDEO_STATE_PUBLISHED,
    "failed": pb.VIDEO_STATE_FAILED,
}
POST_FIELDS = frozenset(f.name for f in pb.Post.DESCRIPTOR.fields)


def media(item: Mapping[Any, Any], post_id: str) -> pb.PostMedia:
    """One entry of a post row's media JSON (or a media row as a mapping)."""
    created = item["created_at"]
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    return pb.PostMedia(
        id=str(item["id"]),
        post_id=post_id,
        url=item["url"],
        mime_type=item["mime_type"],
        size_bytes=item["size_bytes"],
        width=item["width"],
        height=item["height"],
        create_time=timestamp(created),
    )


def post(row: Record) -> pb.Post:
    """A post as its author sees it; reactions are filled in per read (they are social's)."""
    post_id = str(row.id)
    message = pb.Post(
        id=post_id,
        author_id=str(row.author_id),
        text=row.text,
        visibility=VISIBILITIES[row.visibility],
        media=[media(item, post_id) for item in row.media],
        hashtags=row.hashtags,
        mentions=[pb.Mention(user_id=m["user_id"], username=m["username"]) for m in row.mentions],
        comments_count=row.comments_count,
        moderation_state=MODERATION[row.moderation_state],
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
        etag=etag(row.version),
    )
    if row.edited_at is not None:
        message.edit_time.CopyFrom(timestamp(row.edited_at))
    return message


def read_mask(mask: field_mask_pb2.FieldMask) -> frozenset[str] | None:
    """The Post fields a read asks for; None means all of them."""
    if not mask.paths:
        return None
    unknown = [p for p in mask.paths if p not in POST_FIELDS]
    if unknown:
        raise InvalidArgument("read_mask", f"unknown field {unknown[0]!r}")
    return frozenset(mask.paths)


def masked(full: pb.Post, fields: frozenset[str] | None) -> pb.Post:
    """Only the fields asked for, and the id always."""
    if fields is None:
        return full
    shown = pb.Post()
    shown.CopyFrom(full)
    for field in POST_FIELDS - fields - {"id"}:
        shown.ClearField(field)  # type: ignore[arg-type]
    return shown


def video(row: Record) -> pb.Video:
    message = pb.Video(
        id=str(row.id),
        author_id=str(row.author_id),
        title=row.title,
        description=row.description,
        state=VIDEO_STATES[row.state],
        hls_url=row.hls_url,
        thumbnail_url=row.thumbnail_url,
        resolution=row.resolution,
        view_count=int(row.view_count),
        failure_reason=row.failure_reason,
        moderation_state=MODERATION[row.moderation_state],
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )
    if row.duration_us:
        message.duration.CopyFrom(
            duration_pb2.Duration(
                seconds=row.duration_us // 1_000_000, nanos=row.duration_us % 1_000_000 * 1000
            )
        )
    return message


def comment(row: Record) -> pb.Comment:
    return pb.Comment(
        id=str(row.id),
        post_id=str(row.post_id),
        author_id=str(row.author_id),
        parent_id=str(row.parent_id) if row.parent_id is not None else "",
        text=row.text,
        replies_count=row.replies_count,
        moderation_state=MODERATION[row.moderation_state],
        create_time=timestamp(row.created_at),
    )
