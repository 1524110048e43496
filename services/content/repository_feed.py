"""SQL of home feeds: the newest posts of a set of authors, as a follower may see them.

One LATERAL scan of posts_author_timeline per author, each stopping after `limit` rows,
then the newest `limit` of those: the cost follows the number of authors and the page,
never an author's whole history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.content.repository import LIVE_POST, Record
from services.content.tables import posts
from shared.sqlarrays import WordList

# Followers see public and followers-only posts; the reader's own posts, private ones too.
# Each post comes as a feed entry: its creation time in whole microseconds since the epoch
# (exact: extract gives a numeric) and its id as text, so 800 of them cost no conversions.
AUTHORS_NEWEST = text(
    """
    SELECT (extract(epoch FROM p.created_at) * 1000000)::bigint AS score, p.id::text AS id
    FROM unnest(CAST(:authors AS uuid[])) AS a(id)
    CROSS JOIN LATERAL (
        SELECT id, author_id, created_at FROM posts
        WHERE author_id = a.id
          AND deleted_at IS NULL AND published
          AND moderation_state = 'visible'
          AND (visibility IN ('public', 'followers') OR author_id = :reader)
          AND (created_at, id) < (:before, :before_id)
        ORDER BY created_at DESC, id DESC
        LIMIT :limit
    ) AS p
    ORDER BY p.created_at DESC, p.id DESC
    LIMIT :limit
    """
).bindparams(bindparam("authors", type_=WordList()))

# The far end of every timeline, for a first page.
NEWEST = (datetime.max.replace(tzinfo=UTC), uuid.UUID(int=(1 << 128) - 1))


async def newest_of(
    conn: AsyncConnection,
    reader: uuid.UUID,
    authors: Sequence[uuid.UUID],
    limit: int,
    before: tuple[datetime, uuid.UUID] = NEWEST,
) -> list[tuple[int, str]]:
    """The newest `limit` posts of `authors` before `before` (created_at, id), as feed
    entries (score, post id)."""
    if not authors:
        return []
    params = {
        "authors": list(authors),
        "reader": reader,
        "before": before[0],
        "before_id": before[1],
        "limit": limit,
    }
    return [(score, post_id) for score, post_id in await conn.execute(AUTHORS_NEWEST, params)]


async def post_facts(conn: AsyncConnection, post_id: uuid.UUID) -> Record | None:
    """A live post's visibility and creation time, for putting it back into feeds."""
    statement = select(posts.c.visibility, posts.c.created_at).where(
        posts.c.id == post_id, LIVE_POST, posts.c.moderation_state == "visible"
    )
    return (await conn.execute(statement)).one_or_none()
