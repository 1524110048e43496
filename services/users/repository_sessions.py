"""SQL of sessions: their refresh secrets, rotation, replay history and revocation.

A session stores the hash of its current refresh secret; rotated ones are remembered
until the session is revoked, so a replayed token is recognised and ends its session.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.users.repository import Record
from services.users.tables import rotated_refresh_tokens, user_sessions, users


async def insert_session(
    conn: AsyncConnection,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    device: str,
    refresh_hash: bytes,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        insert(user_sessions).values(
            id=session_id,
            user_id=user_id,
            device=device,
            refresh_hash=refresh_hash,
            created_at=now,
            last_refresh_at=now,
            expires_at=expires_at,
        )
    )


async def lock_session(conn: AsyncConnection, session_id: uuid.UUID) -> Record | None:
    """The session with its user's role and status, locked for rotation."""
    statement = (
        select(
            user_sessions,
            users.c.role,
            users.c.status,
            users.c.status_until,
        )
        .select_from(user_sessions.join(users, users.c.id == user_sessions.c.user_id))
        .where(user_sessions.c.id == session_id)
        .with_for_update(of=user_sessions)
    )
    return (await conn.execute(statement)).one_or_none()


async def rotate_session(
    conn: AsyncConnection,
    session_id: uuid.UUID,
    old_hash: bytes,
    new_hash: bytes,
    now: datetime,
) -> None:
    """Replace the session's refresh secret, remembering the old one to recognise replays."""
    await conn.execute(
        insert(rotated_refresh_tokens).values(
            refresh_hash=old_hash, session_id=session_id, rotated_at=now
        )
    )
    await conn.execute(
        update(user_sessions)
        .where(user_sessions.c.id == session_id)
        .values(refresh_hash=new_hash, last_refresh_at=now)
    )


async def was_rotated(conn: AsyncConnection, session_id: uuid.UUID, refresh_hash: bytes) -> bool:
    """Whether this secret was once the session's, i.e. a real token presented again."""
    statement = select(rotated_refresh_tokens.c.session_id).where(
        rotated_refresh_tokens.c.refresh_hash == refresh_hash,
        rotated_refresh_tokens.c.session_id == session_id,
    )
    return (await conn.execute(statement)).one_or_none() is not None


async def revoke_sessions(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    *,
    reason: str,
    now: datetime,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke the user's live sessions (just `only`, or all but `keep`); how many were live.

    An ended session refuses every refresh token, so its replay history goes with it.
    """
    condition = [user_sessions.c.user_id == user_id, user_sessions.c.revoked_at.is_(None)]
    if only is not None:
        condition.append(user_sessions.c.id == only)
    if keep is not None:
        condition.append(user_sessions.c.id != keep)
    result = await conn.execute(
        update(user_sessions)
        .where(and_(*condition))
        .values(revoked_at=now, revoke_reason=reason)
        .returning(user_sessions.c.id)
    )
    ended = [row.id for row in result.all()]
    if ended:
        await conn.execute(
            delete(rotated_refresh_tokens).where(rotated_refresh_tokens.c.session_id.in_(ended))
        )
    return len(ended)


async def list_live_sessions(
    conn: AsyncConnection, user_id: uuid.UUID, now: datetime
) -> list[Record]:
    statement = (
        select(user_sessions)
        .where(
            user_sessions.c.user_id == user_id,
            user_sessions.c.revoked_at.is_(None),
            user_sessions.c.expires_at > now,
        )
        .order_by(user_sessions.c.created_at.desc())
    )
    return list((await conn.execute(statement)).all())


async def session_is_live(conn: AsyncConnection, session_id: uuid.UUID, now: datetime) -> bool:
    statement = select(user_sessions.c.id).where(
        user_sessions.c.id == session_id,
        user_sessions.c.revoked_at.is_(None),
        user_sessions.c.expires_at > now,
    )
    return (await conn.execute(statement)).one_or_none() is not None
