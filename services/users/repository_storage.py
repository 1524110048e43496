"""SQL of the storage quota: usage against the tier's quota, reservations, tiers.

A reservation is one conditional UPDATE of the user's usage row (`add_usage_within_quota`),
which concurrent reservations serialise on, next to the reservation row keyed by the
caller's request id.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.users.repository import LIVE, Record
from services.users.tables import storage_reservations, storage_usage, subscription_tiers, users

USAGE_COLUMNS = (
    storage_usage.c.user_id,
    storage_usage.c.used_bytes,
    subscription_tiers.c.storage_quota_bytes,
    users.c.subscription_tier,
)
USAGE_FROM = storage_usage.join(users, users.c.id == storage_usage.c.user_id).join(
    subscription_tiers, subscription_tiers.c.name == users.c.subscription_tier
)


async def get_usage(conn: AsyncConnection, user_id: uuid.UUID) -> Record | None:
    statement = (
        select(*USAGE_COLUMNS)
        .select_from(USAGE_FROM)
        .where(storage_usage.c.user_id == user_id, LIVE)
    )
    return (await conn.execute(statement)).one_or_none()


async def claim_reservation(
    conn: AsyncConnection, request_id: str, user_id: uuid.UUID, size: int, now: datetime
) -> Record | None:
    """Record the reservation; None if this request id already has one (see find_reservation)."""
    statement = (
        insert(storage_reservations)
        .values(request_id=request_id, user_id=user_id, bytes=size, created_at=now)
        .on_conflict_do_nothing(index_elements=[storage_reservations.c.request_id])
        .returning(storage_reservations.c.request_id)
    )
    return (await conn.execute(statement)).one_or_none()


async def find_reservation(conn: AsyncConnection, request_id: str) -> Record | None:
    statement = select(storage_reservations).where(storage_reservations.c.request_id == request_id)
    return (await conn.execute(statement)).one_or_none()


async def add_usage_within_quota(
    conn: AsyncConnection, user_id: uuid.UUID, size: int, now: datetime
) -> bool:
    """Atomically add `size` bytes unless that would pass the quota (the row lock serialises)."""
    quota = (
        select(subscription_tiers.c.storage_quota_bytes)
        .select_from(
            users.join(subscription_tiers, subscription_tiers.c.name == users.c.subscription_tier)
        )
        .where(users.c.id == user_id)
        .scalar_subquery()
    )
    result = await conn.execute(
        update(storage_usage)
        .where(storage_usage.c.user_id == user_id, storage_usage.c.used_bytes <= quota - size)
        .values(used_bytes=storage_usage.c.used_bytes + size, updated_at=now)
        .returning(storage_usage.c.user_id)
    )
    return result.one_or_none() is not None


async def release_reservation(
    conn: AsyncConnection, request_id: str, user_id: uuid.UUID, now: datetime
) -> int | None:
    """Mark the reservation released and give its bytes back; None if it was not live."""
    released = (
        await conn.execute(
            update(storage_reservations)
            .where(
                storage_reservations.c.request_id == request_id,
                storage_reservations.c.user_id == user_id,
                storage_reservations.c.released_at.is_(None),
            )
            .values(released_at=now)
            .returning(storage_reservations.c.bytes)
        )
    ).one_or_none()
    if released is None:
        return None
    size = int(released.bytes)
    await conn.execute(
        update(storage_usage)
        .where(storage_usage.c.user_id == user_id)
        .values(used_bytes=storage_usage.c.used_bytes - size, updated_at=now)
    )
    return size


async def list_tiers(conn: AsyncConnection) -> list[Record]:
    statement = select(subscription_tiers).order_by(subscription_tiers.c.rank)
    return list((await conn.execute(statement)).all())


async def set_tier(conn: AsyncConnection, user_id: uuid.UUID, tier: str, now: datetime) -> bool:
    result = await conn.execute(
        update(users)
        .where(users.c.id == user_id, LIVE)
        .values(subscription_tier=tier, updated_at=now)
        .returning(users.c.id)
    )
    return result.one_or_none() is not None


async def tier_exists(conn: AsyncConnection, tier: str) -> bool:
    statement = select(subscription_tiers.c.name).where(subscription_tiers.c.name == tier)
    return (await conn.execute(statement)).one_or_none() is not None
