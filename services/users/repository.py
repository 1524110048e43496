"""Every SQL statement of the users service, as SQLAlchemy Core on one connection.

Statement builders (`*_statement`) are module-level so the query-plan tests EXPLAIN
exactly what the service runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, UUID, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.users.tables import (
    rotated_refresh_tokens,
    storage_reservations,
    storage_usage,
    subscription_tiers,
    user_profiles,
    user_sessions,
    users,
)

# Any row this module returns; columns are read by name.
Record = Row[*tuple[Any, ...]]

USER_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.email,
    users.c.display_name,
    users.c.role,
    users.c.status,
    users.c.status_until,
    users.c.subscription_tier,
    users.c.locked,
    users.c.created_at,
    users.c.updated_at,
)
LIVE = users.c.status != "deleted"


class DuplicateUser(Exception):
    """A unique index refused the row; `field` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


# --- users ---------------------------------------------------------------------------


async def insert_user(
    conn: AsyncConnection,
    *,
    user_id: uuid.UUID,
    username: str,
    email: str,
    password_hash: str,
    display_name: str,
    role: str,
    now: datetime,
) -> Record:
    """The user, their empty profile and their storage counter, in the caller's transaction."""
    try:
        async with conn.begin_nested():
            row = (
                await conn.execute(
                    insert(users)
                    .values(
                        id=user_id,
                        username=username,
                        email=email,
                        password_hash=password_hash,
                        display_name=display_name,
                        role=role,
                        status="active",
                        subscription_tier="free",
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(*USER_COLUMNS)
                )
            ).one()
    except IntegrityError as exc:
        constraint = getattr(exc.orig, "diag", None)
        name = getattr(constraint, "constraint_name", "") or ""
        raise DuplicateUser("email" if "email" in name else "username") from None
    await conn.execute(insert(user_profiles).values(user_id=user_id, updated_at=now))
    await conn.execute(insert(storage_usage).values(user_id=user_id, updated_at=now))
    return row


def login_lookup_statement(login: str) -> Select[Any]:
    """The account a login names: by email when it has an @, else by username."""
    column = users.c.email if "@" in login else users.c.username
    return select(*USER_COLUMNS, users.c.password_hash).where(
        func.lower(column) == login.lower(), LIVE
    )


async def find_for_login(conn: AsyncConnection, login: str) -> Record | None:
    return (await conn.execute(login_lookup_statement(login))).one_or_none()


# Built once: GetUser and BatchGetUsers run it with only the ids changing.
BATCH_GET_USERS = select(*USER_COLUMNS).where(
    users.c.id == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))), LIVE
)


def batch_get_users_statement(user_ids: Sequence[uuid.UUID]) -> Select[Any]:
    return BATCH_GET_USERS.params(ids=list(user_ids))


async def batch_get_users(conn: AsyncConnection, user_ids: Sequence[uuid.UUID]) -> list[Record]:
    return list((await conn.execute(BATCH_GET_USERS, {"ids": list(user_ids)})).all())


# Built once; runs on the unique index on lower(username).
LOOKUP_BY_USERNAME = select(*USER_COLUMNS).where(
    func.lower(users.c.username) == any_(bindparam("names", type_=ARRAY(Text))), LIVE
)


def lookup_by_username_statement(usernames: Sequence[str]) -> Select[Any]:
    return LOOKUP_BY_USERNAME.params(names=list(usernames))


async def lookup_by_username(conn: AsyncConnection, usernames: Sequence[str]) -> list[Record]:
    return list((await conn.execute(LOOKUP_BY_USERNAME, {"names": list(usernames)})).all())


def search_users_statement(
    query: str, after: tuple[float, uuid.UUID] | None, limit: int
) -> Select[Any]:
    """Trigram matches on username or display name, best first, then by id (keyset)."""
    score = (
        func.greatest(
            func.similarity(users.c.username, query),
            func.similarity(users.c.display_name, query),
        )
        .cast(DOUBLE_PRECISION)
        .label("score")
    )
    matches = or_(users.c.username.op("%")(query), users.c.display_name.op("%")(query))
    inner = select(*USER_COLUMNS, score).where(matches, LIVE).subquery()
    statement = select(inner)
    if after is not None:
        statement = statement.where(
            tuple_(-inner.c.score, inner.c.id)
            > tuple_(literal(-after[0], DOUBLE_PRECISION), literal(after[1], UUID(as_uuid=True)))
        )
    return statement.order_by(inner.c.score.desc(), inner.c.id).limit(limit)


async def search_users(
    conn: AsyncConnection, query: str, after: tuple[float, uuid.UUID] | None, limit: int
) -> list[Record]:
    return list((await conn.execute(search_users_statement(query, after, limit))).all())


async def lock_user(conn: AsyncConnection, user_id: uuid.UUID) -> Record | None:
    statement = select(*USER_COLUMNS, users.c.password_hash).where(users.c.id == user_id, LIVE)
    return (await conn.execute(statement.with_for_update())).one_or_none()


async def password_hash(conn: AsyncConnection, user_id: uuid.UUID) -> str | None:
    statement = select(users.c.password_hash).where(users.c.id == user_id, LIVE)
    return (await conn.execute(statement)).scalar_one_or_none()


async def set_password_hash(
    conn: AsyncConnection, user_id: uuid.UUID, password_hash: str, now: datetime
) -> None:
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, updated_at=now)
    )


async def set_status(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    *,
    status: str,
    reason: str,
    until: datetime | None,
    now: datetime,
) -> Record:
    statement = (
        update(users)
        .where(users.c.id == user_id)
        .values(status=status, status_reason=reason, status_until=until, updated_at=now)
        .returning(*USER_COLUMNS)
    )
    return (await conn.execute(statement)).one()


async def anonymise_user(conn: AsyncConnection, user_id: uuid.UUID, now: datetime) -> None:
    """Frees the username and email, forgets the password and the profile."""
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            username="deleted_" + user_id.hex,
            email=None,
            password_hash="",
            display_name="Deleted user",
            status="deleted",
            status_reason=None,
            status_until=None,
            updated_at=now,
            deleted_at=now,
        )
    )
    await conn.execute(
        update(user_profiles)
        .where(user_profiles.c.user_id == user_id)
        .values(
            bio="",
            location="",
            avatar_url="",
            website="",
            style_config={},
            version=user_profiles.c.version + 1,
            updated_at=now,
        )
    )


# --- profiles ------------------------------------------------------------------------

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


# --- sessions ------------------------------------------------------------------------


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


# --- storage -------------------------------------------------------------------------

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
