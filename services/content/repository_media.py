"""SQL of post media: rows that move pending → active → releasing → gone.

A row is written pending before its bytes are reserved with the users service and
becomes active (shown) only after; deleting it, or its post, or giving up on it marks
it releasing until the users service has the bytes back. See media.py for why.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.content.repository import SHOWN_MEDIA, Record
from services.content.tables import post_media

MEDIA_COLUMNS = (
    post_media.c.id,
    post_media.c.post_id,
    post_media.c.author_id,
    post_media.c.url,
    post_media.c.mime_type,
    post_media.c.size_bytes,
    post_media.c.width,
    post_media.c.height,
    post_media.c.state,
    post_media.c.reservation_key,
    post_media.c.request_digest,
    post_media.c.created_at,
    post_media.c.updated_at,
)


async def media_by_request(
    conn: AsyncConnection, post_id: uuid.UUID, request_id: str
) -> Record | None:
    statement = select(*MEDIA_COLUMNS).where(
        post_media.c.post_id == post_id,
        post_media.c.request_id == request_id,
        post_media.c.state.in_(("pending", "active")),
    )
    return (await conn.execute(statement)).one_or_none()


async def count_media(conn: AsyncConnection, post_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        post_media.c.post_id == post_id, post_media.c.state.in_(("pending", "active"))
    )
    return int((await conn.execute(statement)).scalar_one())


async def insert_media(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> list[Record]:
    """Media rows in state pending: not shown until their bytes are reserved."""
    values = [{**row, "state": "pending"} for row in rows]
    statement = insert(post_media).values(values).returning(*MEDIA_COLUMNS)
    return list((await conn.execute(statement)).all())


async def pending_post_media(conn: AsyncConnection, post_id: uuid.UUID) -> list[Record]:
    """The post's pending media (on post_media_unsettled), in the order it was written."""
    statement = (
        select(*MEDIA_COLUMNS)
        .where(post_media.c.state == "pending", post_media.c.post_id == post_id)
        .order_by(post_media.c.created_at, post_media.c.id)
    )
    return list((await conn.execute(statement)).all())


async def activate_media(
    conn: AsyncConnection, media_ids: Collection[uuid.UUID], now: datetime
) -> bool:
    """pending → active (active stays so: a concurrent retry got there first); False if any
    was withdrawn meanwhile (rolled back, or its post deleted): then roll back."""
    result = await conn.execute(
        update(post_media)
        .where(post_media.c.id.in_(media_ids), post_media.c.state.in_(("pending", "active")))
        .values(state="active", updated_at=now)
        .returning(post_media.c.id)
    )
    return len(result.all()) == len(media_ids)


async def withdraw_media(
    conn: AsyncConnection, media_ids: Collection[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """pending → releasing; the ids that are active (a concurrent retry stored them)."""
    await conn.execute(
        update(post_media)
        .where(post_media.c.id.in_(media_ids), post_media.c.state == "pending")
        .values(state="releasing", updated_at=now)
    )
    active = select(post_media.c.id).where(post_media.c.id.in_(media_ids), SHOWN_MEDIA)
    return set((await conn.execute(active)).scalars())


async def lock_active_media(conn: AsyncConnection, media_id: uuid.UUID) -> Record | None:
    statement = select(*MEDIA_COLUMNS).where(post_media.c.id == media_id, SHOWN_MEDIA)
    return (await conn.execute(statement.with_for_update())).one_or_none()


async def start_media_release(
    conn: AsyncConnection, media_id: uuid.UUID, now: datetime
) -> list[Record]:
    return await _start_release(conn, post_media.c.id == media_id, now)


async def start_post_release(
    conn: AsyncConnection, post_id: uuid.UUID, now: datetime
) -> list[Record]:
    """All of a deleted post's unsettled media now owes its bytes back."""
    return await _start_release(conn, post_media.c.post_id == post_id, now)


async def start_posts_release(
    conn: AsyncConnection, post_ids: Sequence[uuid.UUID], now: datetime
) -> list[Record]:
    """All of these deleted posts' unsettled media now owes its bytes back."""
    return await _start_release(conn, post_media.c.post_id.in_(list(post_ids)), now)


async def claim_stale_media(
    conn: AsyncConnection, cutoff: datetime, now: datetime, limit: int
) -> list[Record]:
    """Pending media older than `cutoff` (its writer died or gave up) now owes its bytes."""
    stale = (
        select(post_media.c.id)
        .where(post_media.c.state == "pending", post_media.c.updated_at < cutoff)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return await _start_release(conn, post_media.c.id.in_(stale), now)


async def _start_release(conn: AsyncConnection, condition: Any, now: datetime) -> list[Record]:
    result = await conn.execute(
        update(post_media)
        .where(condition, post_media.c.state.in_(("pending", "active")))
        .values(state="releasing", updated_at=now)
        .returning(*MEDIA_COLUMNS)
    )
    return list(result.all())


async def media_to_release(conn: AsyncConnection, cutoff: datetime, limit: int) -> list[Record]:
    statement = (
        select(*MEDIA_COLUMNS)
        .where(post_media.c.state == "releasing", post_media.c.updated_at < cutoff)
        .order_by(post_media.c.updated_at)
        .limit(limit)
    )
    return list((await conn.execute(statement)).all())


async def forget_released_media(conn: AsyncConnection, media_id: uuid.UUID) -> None:
    await conn.execute(
        delete(post_media).where(post_media.c.id == media_id, post_media.c.state == "releasing")
    )


async def owe_release(conn: AsyncConnection, row: Record, now: datetime) -> None:
    """Record (again) that this media's bytes are owed back, for the reconciler (a row
    still there is already releasing: left as it is)."""
    values = {c: getattr(row, c) for c in row._fields if c not in ("state", "updated_at")}
    await conn.execute(
        insert(post_media)
        .values(**values, state="releasing", updated_at=now)
        .on_conflict_do_nothing(index_elements=[post_media.c.id])
    )
