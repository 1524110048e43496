"""SQL of profiles: the profile row joined with the settings kept on the users row.

An update is one conditional UPDATE on the profile's version, so of two writers holding
the same etag exactly one applies its changes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.users.repository import LIVE, Record
from services.users.tables import user_profiles, users

PROFILE_COLUMNS = (
    user_profiles.c.user_id,
    users.c.display_name,
    user_profiles.c.bio,
    user_profiles.c.location,
    user_profiles.c.avatar_url,
    user_profiles.c.website,
    user_profiles.c.style_config,
    users.c.locked,
    user_profiles.c.version,
    user_profiles.c.updated_at,
)
PROFILE_FROM = user_profiles.join(users, users.c.id == user_profiles.c.user_id)


async def get_profile(conn: AsyncConnection, user_id: uuid.UUID) -> Record | None:
    statement = (
        select(*PROFILE_COLUMNS)
        .select_from(PROFILE_FROM)
        .where(user_profiles.c.user_id == user_id, LIVE)
    )
    return (await conn.execute(statement)).one_or_none()


async def update_profile(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    *,
    expected_version: int | None,
    profile_values: dict[str, Any],
    account_values: dict[str, Any],
    now: datetime,
) -> bool:
    """Apply the changes if the version still matches; False when someone else got there first.

    `account_values` are the profile settings kept on the users row (display_name, locked).
    """
    live_user = select(users.c.id).where(users.c.id == user_id, LIVE)
    condition = [user_profiles.c.user_id == user_id, user_profiles.c.user_id.in_(live_user)]
    if expected_version is not None:
        condition.append(user_profiles.c.version == expected_version)
    result = await conn.execute(
        update(user_profiles)
        .where(and_(*condition))
        .values(**profile_values, version=user_profiles.c.version + 1, updated_at=now)
        .returning(user_profiles.c.user_id)
    )
    if result.one_or_none() is None:
        return False
    if account_values:
        await conn.execute(
            update(users).where(users.c.id == user_id).values(**account_values, updated_at=now)
        )
    return True
