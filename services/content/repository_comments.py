"""SQL of comments: threads, their counters and their soft deletion.

Counters are exact by construction: a comment and the counts it changes (its post's
comments_count, its parent's replies_count) are written in one transaction, each an
`UPDATE … SET n = n + d`. Every writer locks the post row first, so creates and
deletes of one post's comments serialise in the same order and cannot deadlock.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.content.repository import Record
from services.content.tables import comments
from shared import keyset

LIVE_COMMENT = comments.c.deleted_at.is_(None)
COMMENT_COLUMNS = (
    comments.c.id,
    comments.c.post_id,
    comments.c.author_id,
    comments.c.parent_id,
    comments.c.text,
    comments.c.replies_count,
    comments.c.moderation_state,
    comments.c.created_at,
)


async def find_comment_by_request(
    conn: AsyncConnection, author_id: uuid.UUID, request_id: str
) -> Record | None:
    statement = select(
        comments.c.id, comments.c.request_digest, comments.c.deleted_at, *COMMENT_COLUMNS[1:]
    ).where(comments.c.author_id == author_id, comments.c.request_id == request_id)
    return (await conn.execute(statement)).one_or_none()


async def get_comment(conn: AsyncConnection, comment_id: uuid.UUID) -> Record | None:
    statement = select(*COMMENT_COLUMNS).where(comments.c.id == comment_id, LIVE_COMMENT)
    return (await conn.execute(statement)).one_or_none()


async def add_replies(
    conn: AsyncConnection, parent_id: uuid.UUID, post_id: uuid.UUID, delta: int
) -> Record | None:
    """Count replies on a live comment of the same post (its moderation state and author);
    None if there is no such comment."""
    result = await conn.execute(
        update(comments)
        .where(comments.c.id == parent_id, comments.c.post_id == post_id, LIVE_COMMENT)
        .values(replies_count=comments.c.replies_count + delta)
        .returning(comments.c.moderation_state, comments.c.author_id)
    )
    return result.one_or_none()


async def insert_comment(conn: AsyncConnection, **values: Any) -> Record | None:
    """The comment; None if its author already used this request id."""
    statement = (
        insert(comments)
        .values(**values, replies_count=0, moderation_state="visible", moderation_reason="")
        .on_conflict_do_nothing(
            index_elements=[comments.c.author_id, comments.c.request_id],
            index_where=comments.c.request_id.is_not(None),
        )
        .returning(*COMMENT_COLUMNS)
    )
    return (await conn.execute(statement)).one_or_none()


async def delete_thread(
    conn: AsyncConnection, post_id: uuid.UUID, comment_id: uuid.UUID, now: datetime
) -> int:
    """Soft-delete a comment and every reply below it; how many comments that removed.

    Run with the post row locked, so no reply can be added under the thread meanwhile.
    """
    tree = (
        select(comments.c.id)
        .where(comments.c.id == comment_id, LIVE_COMMENT)
        .cte("thread", recursive=True)
    )
    child = comments.alias("child")
    tree = tree.union_all(
        select(child.c.id).where(
            child.c.post_id == post_id,
            child.c.parent_id == tree.c.id,
            child.c.deleted_at.is_(None),
        )
    )
    result = await conn.execute(
        update(comments)
        .where(comments.c.id.in_(select(tree.c.id)), LIVE_COMMENT)
        .values(deleted_at=now)
        .returning(comments.c.id)
    )
    return len(result.all())


async def live_comments_of(conn: AsyncConnection, author_id: uuid.UUID, limit: int) -> list[Record]:
    """Up to `limit` of the author's live comments, by post, on comments_by_author."""
    statement = (
        select(comments.c.id, comments.c.post_id, comments.c.parent_id)
        .where(comments.c.author_id == author_id, LIVE_COMMENT)
        .order_by(comments.c.post_id)
        .limit(limit)
    )
    return list((await conn.execute(statement)).all())


async def set_comment_moderation(
    conn: AsyncConnection, comment_id: uuid.UUID, state: str, reason: str
) -> Record | None:
    result = await conn.execute(
        update(comments)
        .where(comments.c.id == comment_id, LIVE_COMMENT)
        .values(moderation_state=state, moderation_reason=reason)
        .returning(comments.c.post_id)
    )
    return result.one_or_none()


def comments_query(
    post_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    moderated_too: bool,
    after: keyset.After,
    limit: int,
) -> keyset.Query:
    """A post's top-level comments or one comment's replies, oldest first, on comments_thread."""
    statement = _comments(parent_id is not None, moderated_too, after is not None)
    return statement, keyset.values(after, limit, {"post_id": post_id, "parent_id": parent_id})


@functools.cache
def _comments(replies: bool, moderated_too: bool, paged: bool) -> Select[Any]:
    parent = (
        comments.c.parent_id == bindparam("parent_id", type_=UUID(as_uuid=True))
        if replies
        else comments.c.parent_id.is_(None)
    )
    statement = select(*COMMENT_COLUMNS).where(
        comments.c.post_id == bindparam("post_id", type_=UUID(as_uuid=True)), parent, LIVE_COMMENT
    )
    if not moderated_too:
        statement = statement.where(comments.c.moderation_state == "visible")
    if paged:
        types = (comments.c.created_at.type, UUID(as_uuid=True))
        keys = (comments.c.created_at, comments.c.id)
        statement = statement.where(keyset.past(keys, types, newest=False))
    return statement.order_by(comments.c.created_at, comments.c.id).limit(keyset.LIMIT)
