"""Every SQL statement of accounts and their credentials, as SQLAlchemy Core on one connection.

Statement builders (`*_statement`) are module-level so the query-plan tests EXPLAIN
exactly what the service runs. repository_profiles, repository_sessions and
repository_storage hold the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    any_,
    bindparam,
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

from services.users.tables import storage_usage, user_profiles, users
from shared.records import Record as Record
from shared.records import records
from shared.sqlarrays import uuid_array

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
BATCH_GET_USERS = select(*USER_COLUMNS).where(users.c.id == any_(uuid_array("ids")), LIVE)


def batch_get_users_statement(user_ids: Sequence[uuid.UUID]) -> Select[Any]:
    return BATCH_GET_USERS.params(ids=list(user_ids))


async def batch_get_users(conn: AsyncConnection, user_ids: Sequence[uuid.UUID]) -> list[Record]:
    return records(await conn.execute(BATCH_GET_USERS, {"ids": list(user_ids)}))


# Built once; runs on the unique index on lower(username).
LOOKUP_BY_USERNAME = select(*USER_COLUMNS).where(
    func.lower(users.c.username) == any_(bindparam("names", type_=ARRAY(Text))), LIVE
)


def lookup_by_username_statement(usernames: Sequence[str]) -> Select[Any]:
    return LOOKUP_BY_USERNAME.params(names=list(usernames))


async def lookup_by_username(conn: AsyncConnection, usernames: Sequence[str]) -> list[Record]:
    return records(await conn.execute(LOOKUP_BY_USERNAME, {"names": list(usernames)}))


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
