"""SQL of CreatePost: the post with its hashtags and mentions inserted by one statement,
built once, and the lookup of a retried request's post."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.content.repository import POST_ROW_COLUMNS, TRENDING_DECAY_SECONDS, Record
from services.content.tables import hashtags, post_hashtags, post_mentions, posts
from shared.sqlarrays import uuid_array


async def find_post_by_request(
    conn: AsyncConnection, author_id: uuid.UUID, request_id: str
) -> Record | None:
    statement = select(
        posts.c.id, posts.c.request_digest, posts.c.published, posts.c.deleted_at
    ).where(posts.c.author_id == author_id, posts.c.request_id == request_id)
    return (await conn.execute(statement)).one_or_none()


def _param(name: str, column: str) -> Any:
    """A bind parameter typed as the posts column it fills."""
    return bindparam(name, type_=posts.c[column].type)


_NEW_POST = (
    insert(posts)
    .values(
        id=_param("post_id", "id"),
        author_id=_param("author_id", "author_id"),
        text=_param("text", "text"),
        visibility=_param("visibility", "visibility"),
        hashtags=_param("tags", "hashtags"),
        mentions=_param("mentions", "mentions"),
        comments_count=0,
        engagement=0,
        trending_score=_param("trending_score", "trending_score"),
        moderation_state="visible",
        moderation_reason="",
        version=1,
        request_id=_param("request_id", "request_id"),
        request_digest=_param("request_digest", "request_digest"),
        published=_param("published", "published"),
        created_at=_param("now", "created_at"),
        updated_at=_param("now", "updated_at"),
    )
    .on_conflict_do_nothing(
        index_elements=[posts.c.author_id, posts.c.request_id],
        index_where=posts.c.request_id.is_not(None),
    )
    .returning(*POST_ROW_COLUMNS)
    .cte("new_post")
)
# Each runs only for a post just inserted: they join new_post, empty otherwise.
_TAG = func.unnest(_param("tags", "hashtags")).table_valued("tag").render_derived()
_MENTIONED = func.unnest(uuid_array("mentioned")).table_valued("user_id").render_derived()
_KNOWN_TAGS = (
    insert(hashtags)
    .from_select(
        ["tag", "created_at"],
        select(_TAG.c.tag, _param("now", "created_at")).select_from(_NEW_POST.join(_TAG, true())),
    )
    .on_conflict_do_nothing(index_elements=[hashtags.c.tag])
    .cte("known_tags")
)
_TAGGED = insert(post_hashtags).from_select(
    ["post_id", "tag", "created_at"],
    select(_NEW_POST.c.id, _TAG.c.tag, _NEW_POST.c.created_at).select_from(
        _NEW_POST.join(_TAG, true())
    ),
)
_MENTIONS = insert(post_mentions).from_select(
    ["post_id", "user_id"],
    select(_NEW_POST.c.id, _MENTIONED.c.user_id).select_from(_NEW_POST.join(_MENTIONED, true())),
)
# The post with its hashtags and mentions, in one statement (one round trip), built once:
# built per call, this statement cost more CPU than the rest of CreatePost's SQL.
INSERT_POST = select(*_NEW_POST.c, literal_column("'[]'::jsonb").label("media")).add_cte(
    _KNOWN_TAGS, _TAGGED.cte("tagged"), _MENTIONS.cte("mentioned")
)


async def insert_post(
    conn: AsyncConnection,
    *,
    post_id: uuid.UUID,
    author_id: uuid.UUID,
    text: str,
    visibility: str,
    tags: Sequence[str],
    mentions: Sequence[tuple[uuid.UUID, str]],
    request_id: str | None,
    request_digest: str,
    published: bool,
    now: datetime,
) -> Record | None:
    """The post with its hashtags and mentions (INSERT_POST); the post's row as
    BATCH_GET_POSTS reads it (no media yet), or None if its request id was already used.

    Unpublished (`published` False) it is not shown until `publish_post`.
    """
    params = {
        "post_id": post_id,
        "author_id": author_id,
        "text": text,
        "visibility": visibility,
        "tags": list(tags),
        "mentions": [{"user_id": str(u), "username": n} for u, n in mentions],
        "mentioned": list(dict.fromkeys(user_id for user_id, _ in mentions)),
        "trending_score": now.timestamp() / TRENDING_DECAY_SECONDS,
        "request_id": request_id,
        "request_digest": request_digest,
        "published": published,
        "now": now,
    }
    return (await conn.execute(INSERT_POST, params)).one_or_none()
