"""SQL of the lists of posts: an author's timeline, trending and a hashtag's posts.

Each is one keyset query on an index in its order, returning only each post's id and
its position (the posts themselves are read through the posts cache). Built here, once
per shape (`shared.keyset`), so the query-plan tests EXPLAIN exactly what the service runs.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, and_, bindparam, select
from sqlalchemy.dialects.postgresql import UUID

from services.content.repository import LIVE_POST
from services.content.tables import post_hashtags, posts
from shared import keyset

LISTED = and_(LIVE_POST, posts.c.visibility == "public", posts.c.moderation_state == "visible")


def user_posts_query(
    author_id: uuid.UUID,
    visibilities: Sequence[str],
    moderated_too: bool,
    after: keyset.After,
    limit: int,
) -> keyset.Query:
    """An author's timeline, newest first, on posts_author_timeline: each post's id and
    position (the posts themselves are read through the posts cache)."""
    statement = _user_posts(tuple(visibilities), moderated_too, after is not None)
    return statement, keyset.values(after, limit, {"author_id": author_id})


@functools.cache
def _user_posts(visibilities: tuple[str, ...], moderated_too: bool, paged: bool) -> Select[Any]:
    statement = select(posts.c.id, posts.c.created_at).where(
        posts.c.author_id == bindparam("author_id", type_=UUID(as_uuid=True)),
        LIVE_POST,
        posts.c.visibility.in_(visibilities),
    )
    if not moderated_too:
        statement = statement.where(posts.c.moderation_state == "visible")
    if paged:
        types = (posts.c.created_at.type, UUID(as_uuid=True))
        statement = statement.where(
            keyset.past((posts.c.created_at, posts.c.id), types, newest=True)
        )
    return statement.order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(keyset.LIMIT)


def trending_query(since: datetime, after: keyset.After, limit: int) -> keyset.Query:
    """Public posts of the window by score, on the partial index posts_trending: ids and
    scores."""
    return _trending(after is not None), keyset.values(after, limit, {"since": since})


@functools.cache
def _trending(paged: bool) -> Select[Any]:
    statement = select(posts.c.id, posts.c.trending_score).where(
        LISTED, posts.c.created_at >= bindparam("since", type_=posts.c.created_at.type)
    )
    if paged:
        types = (Float(), UUID(as_uuid=True))
        statement = statement.where(
            keyset.past((posts.c.trending_score, posts.c.id), types, newest=True)
        )
    return statement.order_by(posts.c.trending_score.desc(), posts.c.id.desc()).limit(keyset.LIMIT)


def hashtag_query(tag: str, after: keyset.After, limit: int) -> keyset.Query:
    """A tag's public posts, newest first, walking post_hashtags_by_tag: ids and positions."""
    return _hashtag(after is not None), keyset.values(after, limit, {"tag": tag})


@functools.cache
def _hashtag(paged: bool) -> Select[Any]:
    statement = (
        select(post_hashtags.c.post_id.label("id"), post_hashtags.c.created_at)
        .select_from(post_hashtags.join(posts, posts.c.id == post_hashtags.c.post_id))
        .where(post_hashtags.c.tag == bindparam("tag", type_=post_hashtags.c.tag.type), LISTED)
    )
    if paged:
        types = (post_hashtags.c.created_at.type, UUID(as_uuid=True))
        keys = (post_hashtags.c.created_at, post_hashtags.c.post_id)
        statement = statement.where(keyset.past(keys, types, newest=True))
    order = (post_hashtags.c.created_at.desc(), post_hashtags.c.post_id.desc())
    return statement.order_by(*order).limit(keyset.LIMIT)
