"""Every SQL statement of the content service, as SQLAlchemy Core on one connection.

Statement builders (`*_statement`, and the prebuilt batch reads) are module-level so
the query-plan tests EXPLAIN exactly what the service runs. Posts, their hashtags and
mentions are here; repository_create (CreatePost's insert), repository_lists (the lists
of posts), repository_media, repository_comments and repository_videos hold the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    any_,
    bindparam,
    delete,
    extract,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.content.tables import (
    hashtags,
    post_hashtags,
    post_media,
    post_mentions,
    posts,
)
from shared import keyset
from shared.records import Record as Record
from shared.records import records
from shared.sqlarrays import WordList, bigint_array, uuid_array

# The trending score is log(1 + engagement) + created_at / DECAY: one more unit of
# log-engagement is worth DECAY seconds of youth (Reddit's "hot" ranking), so the score
# changes only when engagement does and needs no periodic recomputation.
TRENDING_DECAY_SECONDS = 45_000.0

# A post is shown once published (a post created with media is published only when their
# bytes are reserved) and until deleted. Every read goes through this predicate, and the
# migration's partial indexes (posts_author_timeline, posts_trending) carry the same one.
LIVE_POST = and_(posts.c.deleted_at.is_(None), posts.c.published)
UNPUBLISHED = ~posts.c.published
SHOWN_MEDIA = post_media.c.state == "active"

# A post's shown media as a JSON array in the post's own row: one query per batch.
MEDIA_FIELDS = ("id", "url", "mime_type", "size_bytes", "width", "height", "created_at")
MEDIA_JSON = (
    select(
        func.coalesce(
            func.jsonb_agg(
                aggregate_order_by(
                    func.jsonb_build_object(
                        *(part for name in MEDIA_FIELDS for part in (name, post_media.c[name]))
                    ),
                    post_media.c.created_at,
                    post_media.c.id,
                )
            ),
            literal_column("'[]'::jsonb"),
        )
    )
    .where(post_media.c.post_id == posts.c.id, SHOWN_MEDIA)
    .correlate(posts)
    .scalar_subquery()
    .label("media")
)
POST_ROW_COLUMNS = (
    posts.c.id,
    posts.c.author_id,
    posts.c.text,
    posts.c.visibility,
    posts.c.hashtags,
    posts.c.mentions,
    posts.c.comments_count,
    posts.c.trending_score,
    posts.c.moderation_state,
    posts.c.version,
    posts.c.created_at,
    posts.c.updated_at,
    posts.c.edited_at,
)
POST_COLUMNS = (*POST_ROW_COLUMNS, MEDIA_JSON)


def trending_score(engagement: Any, created_at: Any) -> Any:
    return func.ln(1 + engagement) + extract("epoch", created_at) / TRENDING_DECAY_SECONDS


async def rows_of(conn: AsyncConnection, query: keyset.Query) -> list[Record]:
    return records(await conn.execute(*query))


# --- posts ---------------------------------------------------------------------------


async def replace_tags(
    conn: AsyncConnection,
    post_id: uuid.UUID,
    tags: Sequence[str],
    now: datetime,
    *,
    created_at: datetime,
) -> None:
    await conn.execute(delete(post_hashtags).where(post_hashtags.c.post_id == post_id))
    if not tags:
        return
    await conn.execute(
        insert(hashtags)
        .values([{"tag": tag, "created_at": now} for tag in tags])
        .on_conflict_do_nothing(index_elements=[hashtags.c.tag])
    )
    await conn.execute(
        insert(post_hashtags).values(
            [{"post_id": post_id, "tag": tag, "created_at": created_at} for tag in tags]
        )
    )


async def replace_mentions(
    conn: AsyncConnection, post_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> None:
    await conn.execute(delete(post_mentions).where(post_mentions.c.post_id == post_id))
    if user_ids:
        unique = list(dict.fromkeys(user_ids))
        await conn.execute(
            insert(post_mentions).values([{"post_id": post_id, "user_id": u} for u in unique])
        )


# Built once: GetPost and BatchGetPosts run it with only the ids changing.
BATCH_GET_POSTS = select(*POST_COLUMNS).where(posts.c.id == any_(uuid_array("ids")), LIVE_POST)


async def batch_get_posts(
    conn: AsyncConnection, post_ids: Sequence[uuid.UUID | str]
) -> list[Record]:
    return records(await conn.execute(BATCH_GET_POSTS, {"ids": list(post_ids)}))


async def lock_post(conn: AsyncConnection, post_id: uuid.UUID) -> Record | None:
    """The live post, locked for a change (edits, media, comments and deletion serialise)."""
    statement = select(*POST_ROW_COLUMNS).where(posts.c.id == post_id, LIVE_POST)
    return (await conn.execute(statement.with_for_update())).one_or_none()


async def publish_post(conn: AsyncConnection, post_id: uuid.UUID) -> Record | None:
    """Show the post, locking it; None if it is gone meanwhile (its creation rolled back,
    or published and deleted since). `published` says whether it already was (a
    concurrent retry got there first)."""
    row = (
        await conn.execute(
            select(posts.c.author_id, posts.c.visibility, posts.c.created_at, posts.c.published)
            .where(posts.c.id == post_id, posts.c.deleted_at.is_(None))
            .with_for_update()
        )
    ).one_or_none()
    if row is not None and not row.published:
        await conn.execute(update(posts).where(posts.c.id == post_id).values(published=True))
    return row


async def mentioned_users(conn: AsyncConnection, post_id: uuid.UUID) -> list[uuid.UUID]:
    statement = select(post_mentions.c.user_id).where(post_mentions.c.post_id == post_id)
    return list((await conn.scalars(statement)).all())


def stale_unpublished_statement(cutoff: datetime, limit: int) -> Select[Any]:
    """Unpublished posts created before `cutoff`, on posts_unpublished; locked, skipping
    those a writer holds."""
    return (
        select(posts.c.id)
        .where(UNPUBLISHED, posts.c.created_at < cutoff)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def remove_unpublished_post(conn: AsyncConnection, post_id: uuid.UUID) -> None:
    """Remove the post whose creation is rolled back, unless it was published meanwhile."""
    which = select(posts.c.id).where(posts.c.id == post_id, UNPUBLISHED).with_for_update()
    await _remove_posts(conn, which)


async def remove_stale_unpublished_posts(
    conn: AsyncConnection, cutoff: datetime, limit: int
) -> list[uuid.UUID]:
    """Remove unpublished posts whose writer died or gave up; their ids."""
    return await _remove_posts(conn, stale_unpublished_statement(cutoff, limit))


async def _remove_posts(conn: AsyncConnection, which: Select[Any]) -> list[uuid.UUID]:
    """Delete the never-shown posts `which` selects (and locks), with their hashtags and
    mentions; such a post has no comments."""
    post_ids = list((await conn.execute(which)).scalars())
    if post_ids:
        await conn.execute(delete(post_hashtags).where(post_hashtags.c.post_id.in_(post_ids)))
        await conn.execute(delete(post_mentions).where(post_mentions.c.post_id.in_(post_ids)))
        await conn.execute(delete(posts).where(posts.c.id.in_(post_ids), UNPUBLISHED))
    return post_ids


async def update_post(
    conn: AsyncConnection, post_id: uuid.UUID, values: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        update(posts)
        .where(posts.c.id == post_id)
        .values(**values, version=posts.c.version + 1, updated_at=now, edited_at=now)
    )


async def delete_post(conn: AsyncConnection, post_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        update(posts).where(posts.c.id == post_id).values(deleted_at=now, updated_at=now)
    )


async def delete_posts_of(
    conn: AsyncConnection, author_id: uuid.UUID, limit: int, now: datetime
) -> list[Record]:
    """Soft-delete up to `limit` of the author's posts not deleted yet, published ones (on
    posts_author_timeline) and unpublished ones (on posts_unpublished), locked in id order
    as several-post writers lock them; each one's id and whether it was published."""
    theirs = (
        select(posts.c.id)
        .where(
            posts.c.author_id == author_id,
            or_(LIVE_POST, and_(UNPUBLISHED, posts.c.deleted_at.is_(None))),
        )
        .order_by(posts.c.id)
        .limit(limit)
        .with_for_update()
    )
    result = await conn.execute(
        update(posts)
        .where(posts.c.id.in_(theirs.scalar_subquery()))
        .values(deleted_at=now, updated_at=now)
        .returning(posts.c.id, posts.c.published)
    )
    return list(result.all())


async def lock_posts(conn: AsyncConnection, post_ids: Sequence[uuid.UUID]) -> None:
    """Lock these posts' rows (live or not) in id order, as several-post writers lock them."""
    statement = select(posts.c.id).where(posts.c.id.in_(list(post_ids))).order_by(posts.c.id)
    await conn.execute(statement.with_for_update())


# The posts' shown mentions without the user's, in their order.
FORGET_MENTIONS = text(
    """
    UPDATE posts SET version = version + 1, mentions = COALESCE(
        (SELECT jsonb_agg(m ORDER BY n)
         FROM jsonb_array_elements(mentions) WITH ORDINALITY AS e (m, n)
         WHERE m ->> 'user_id' <> :user_id),
        '[]'::jsonb)
    WHERE id = ANY (CAST(:post_ids AS uuid[]))
    """
).bindparams(bindparam("post_ids", type_=WordList()))


async def forget_mentions_of(
    conn: AsyncConnection, user_id: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    """Take the user out of up to `limit` posts that mention them (found on
    post_mentions_by_user, locked in id order first, as their editors lock them before
    their mentions); those posts' ids."""
    mentioning = (
        select(post_mentions.c.post_id).where(post_mentions.c.user_id == user_id).limit(limit)
    )
    post_ids = sorted((await conn.execute(mentioning)).scalars())
    if post_ids:
        await lock_posts(conn, post_ids)
        await conn.execute(
            delete(post_mentions).where(
                post_mentions.c.user_id == user_id, post_mentions.c.post_id.in_(post_ids)
            )
        )
        await conn.execute(FORGET_MENTIONS, {"user_id": str(user_id), "post_ids": post_ids})
    return post_ids


async def set_post_moderation(
    conn: AsyncConnection, post_id: uuid.UUID, state: str, reason: str, now: datetime
) -> bool:
    result = await conn.execute(
        update(posts)
        .where(posts.c.id == post_id, LIVE_POST)
        .values(moderation_state=state, moderation_reason=reason, updated_at=now)
        .returning(posts.c.id)
    )
    return result.one_or_none() is not None


def _engaged(delta: Any) -> dict[str, Any]:
    """The post's engagement moved by `delta` (never below zero), and its score with it."""
    engagement = func.greatest(posts.c.engagement + delta, 0)
    return {
        "engagement": engagement,
        "trending_score": trending_score(engagement, posts.c.created_at),
    }


async def add_comments(
    conn: AsyncConnection, post_id: uuid.UUID, delta: int, now: datetime
) -> Record | None:
    """Count comments on the live post (locking it) and re-score it; None if it is gone."""
    result = await conn.execute(
        update(posts)
        .where(posts.c.id == post_id, LIVE_POST)
        .values(comments_count=posts.c.comments_count + delta, updated_at=now, **_engaged(delta))
        .returning(posts.c.author_id, posts.c.visibility, posts.c.moderation_state)
    )
    return result.one_or_none()


# Each post of the arrays moved by its delta: one statement for a batch of reactions.
_MOVES = (
    func.unnest(
        uuid_array("post_ids"),
        bigint_array("deltas"),
    )
    .table_valued("post_id", "delta")
    .render_derived(name="moves")
)
ADD_REACTIONS = (
    update(posts).where(posts.c.id == _MOVES.c.post_id).values(**_engaged(_MOVES.c.delta))
)


async def add_reactions(conn: AsyncConnection, moves: Mapping[uuid.UUID, int]) -> None:
    """Count reactions added (or withdrawn: a negative delta) into each post's engagement
    and re-score it, in id order. The posts are not edited by it: their edit times and
    versions stay."""
    if moves:
        ids = sorted(moves)
        await conn.execute(ADD_REACTIONS, {"post_ids": ids, "deltas": [moves[p] for p in ids]})
