"""SQL of the lists of posts: an author's timeline, trending and a hashtag's posts.

Each is one keyset query on an index in its order, returning only each post's id and
its position (the posts themselves are read through the posts cache). Built here so the
query-plan tests EXPLAIN exactly what the service runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, and_, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from services.content.repository import LIVE_POST, After, Record, keyset
from services.content.tables import post_hashtags, posts


def user_posts_statement(
    author_id: uuid.UUID, visibilities: Sequence[str], moderated_too: bool, after: After, limit: int
) -> Select[Any]:
    """An author's timeline, newest first, on posts_author_timeline: each post's id and
    position (the posts themselves are read through the posts cache)."""
    statement = select(posts.c.id, posts.c.created_at).where(
        posts.c.author_id == author_id, LIVE_POST, posts.c.visibility.in_(visibilities)
    )
    if not moderated_too:
        statement = statement.where(posts.c.moderation_state == "visible")
    if after is not None:
        types = (posts.c.created_at.type, UUID(as_uuid=True))
        statement = statement.where(
            keyset((posts.c.created_at, posts.c.id), after, types, newest=True)
        )
    return statement.order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(limit)


LISTED = and_(LIVE_POST, posts.c.visibility == "public", posts.c.moderation_state == "visible")


def trending_statement(since: datetime, after: After, limit: int) -> Select[Any]:
    """Public posts of the window by score, on the partial index posts_trending: ids and
    scores."""
    statement = select(posts.c.id, posts.c.trending_score).where(
        LISTED, posts.c.created_at >= since
    )
    if after is not None:
        types = (Float(), UUID(as_uuid=True))
        statement = statement.where(
            keyset((posts.c.trending_score, posts.c.id), after, types, newest=True)
        )
    return statement.order_by(posts.c.trending_score.desc(), posts.c.id.desc()).limit(limit)


def hashtag_statement(tag: str, after: After, limit: int) -> Select[Any]:
    """A tag's public posts, newest first, walking post_hashtags_by_tag: ids and positions."""
    statement = (
        select(post_hashtags.c.post_id.label("id"), post_hashtags.c.created_at)
        .select_from(post_hashtags.join(posts, posts.c.id == post_hashtags.c.post_id))
        .where(post_hashtags.c.tag == tag, LISTED)
    )
    if after is not None:
        types = (post_hashtags.c.created_at.type, UUID(as_uuid=True))
        keys = (post_hashtags.c.created_at, post_hashtags.c.post_id)
        statement = statement.where(keyset(keys, after, types, newest=True))
    order = (post_hashtags.c.created_at.desc(), post_hashtags.c.post_id.desc())
    return statement.order_by(*order).limit(limit)


async def list_positions(conn: AsyncConnection, statement: Select[Any]) -> list[Record]:
    """The rows of a list statement: each post's id and where it stands in the list."""
    return list((await conn.execute(statement)).all())
