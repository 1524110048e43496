"""What the content service tells the others, as events recorded in the transaction of
the change (`shared.outbox`): a post published, removed or restored, a comment posted.

Each is recorded after the statement that locks its post's row, so a post's events are
delivered in the order their changes committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_events_pb2 as events_pb2
from shared import outbox
from shared.messages import timestamp
from shared.streams import CONTENT_COMMENTS, CONTENT_POSTS
from shared.visibility import VISIBILITIES


async def post_created(
    conn: AsyncConnection,
    post_id: uuid.UUID,
    author_id: uuid.UUID,
    visibility: str,
    created_at: datetime,
    mentioned: Sequence[uuid.UUID],
) -> None:
    created = events_pb2.PostCreated(
        post_id=str(post_id),
        author_id=str(author_id),
        visibility=VISIBILITIES[visibility],
        create_time=timestamp(created_at),
        mentioned_user_ids=[str(user) for user in mentioned if user != author_id],
    )
    await outbox.record(conn, CONTENT_POSTS, "content.post.created", post_id, created)


async def post_removed(
    conn: AsyncConnection,
    post_id: uuid.UUID,
    author_id: uuid.UUID,
    actor: str,
    removal: events_pb2.PostRemoval.ValueType,
    reason: str = "",
) -> None:
    removed = events_pb2.PostRemoved(
        post_id=str(post_id),
        author_id=str(author_id),
        actor_id=actor,
        removal=removal,
        reason=reason,
    )
    await outbox.record(conn, CONTENT_POSTS, "content.post.removed", post_id, removed)


async def post_restored(
    conn: AsyncConnection, post_id: uuid.UUID, author_id: uuid.UUID, actor: str, reason: str
) -> None:
    restored = events_pb2.PostRestored(
        post_id=str(post_id), author_id=str(author_id), actor_id=actor, reason=reason
    )
    await outbox.record(conn, CONTENT_POSTS, "content.post.restored", post_id, restored)


async def comment_created(
    conn: AsyncConnection,
    comment_id: uuid.UUID,
    post_id: uuid.UUID,
    author_id: uuid.UUID,
    post_author_id: uuid.UUID,
    parent_author_id: uuid.UUID | None,
) -> None:
    created = events_pb2.CommentCreated(
        comment_id=str(comment_id),
        post_id=str(post_id),
        author_id=str(author_id),
        post_author_id=str(post_author_id),
        parent_author_id=str(parent_author_id) if parent_author_id is not None else "",
    )
    await outbox.record(conn, CONTENT_COMMENTS, "content.comment.created", post_id, created)
