"""Accounts: registration, reads through the cache, search, deletion and status changes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from daira.users.v1 import users_events_pb2 as events_pb2
from daira.users.v1 import users_pb2
from services.users import convert, repository, repository_sessions, validation
from services.users.deps import Deps, now
from shared import outbox, pagination
from shared.auth import Principal, Role, require_owner
from shared.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from shared.ids import new_id
from shared.streams import USERS_ACCOUNTS
from shared.tiers import Tier
from shared.validation import bounded_text

MAX_BATCH = 100
MIN_QUERY = 2
MAX_QUERY = 100


def user_key(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}"


class Accounts:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def register(
        self, username: str, email: str, password: str, display_name: str
    ) -> users_pb2.User:
        username = validation.username("username", username)
        email = validation.email("email", email)
        password = validation.password("password", password)
        display_name = validation.display_name("display_name", display_name or username)
        password_hash = await self._deps.passwords.hash(password)
        try:
            async with self._deps.db.transaction() as conn:
                row = await repository.insert_user(
                    conn,
                    user_id=new_id(),
                    username=username,
                    email=email,
                    password_hash=password_hash,
                    display_name=display_name,
                    role=Role.USER.value,
                    now=now(),
                )
        except repository.DuplicateUser as exc:
            raise AlreadyExists(
                f"that {exc.field} is taken",
                reason=f"{exc.field.upper()}_TAKEN",
                metadata={"field": exc.field},
            ) from None
        return convert.user(row)

    async def get(self, user_id: str) -> users_pb2.User:
        found = await self.get_many([user_id])
        if not found:
            raise NotFound("user", user_id)
        return found[user_id]

    async def get_many(self, user_ids: Sequence[str]) -> dict[str, users_pb2.User]:
        """Users by canonical id: one cache round trip, then one query for what it lacked
        (a user another read is loading is awaited, not queried again)."""

        async def query(keys: list[str]) -> dict[str, bytes]:
            async with self._deps.db.connection() as conn:
                rows = await repository.batch_get_users(conn, [uuid.UUID(ids[k]) for k in keys])
            return {user_key(row.id): convert.user(row).SerializeToString() for row in rows}

        ids = {user_key(u): u for u in user_ids}
        found = await self._deps.cache.get_many_or_load(
            Tier.PROFILES, ids, query, cacheable=_cacheable
        )
        return {ids[key]: users_pb2.User.FromString(raw) for key, raw in found.items()}

    async def lookup(self, usernames: Sequence[str]) -> list[users_pb2.User]:
        if len(usernames) > MAX_BATCH:
            raise InvalidArgument("usernames", f"at most {MAX_BATCH} names per call")
        names = list(
            dict.fromkeys(
                validation.username(f"usernames[{i}]", name) for i, name in enumerate(usernames)
            )
        )
        if not names:
            return []
        async with self._deps.db.connection() as conn:
            rows = await repository.lookup_by_username(conn, names)
        return [convert.user(row) for row in rows]

    async def invalidate(self, user_id: uuid.UUID) -> None:
        await self._deps.cache.delete(Tier.PROFILES, user_key(user_id))

    async def search(self, query: str, size: int, token: str) -> tuple[list[users_pb2.User], str]:
        query = bounded_text("query", query.strip(), MAX_QUERY)
        if len(query) < MIN_QUERY:
            raise InvalidArgument("query", f"must be at least {MIN_QUERY} characters")
        limit = pagination.page_size(size)
        position = pagination.decode(token, {"search": query})
        after = None
        if position is not None:
            try:
                after = (float(position[0]), uuid.UUID(str(position[1])))
            except (ValueError, IndexError):
                raise InvalidArgument("page_token", "is not a valid page token") from None
        async with self._deps.db.connection() as conn:
            rows = await repository.search_users(conn, query, after, limit + 1)
        next_token = ""
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_token = pagination.encode([last.score, str(last.id)], {"search": query})
        return [convert.user(row) for row in rows], next_token

    async def delete(self, principal: Principal, user_id: uuid.UUID) -> None:
        require_owner(principal, user_id)
        if principal.role is not Role.ADMIN:
            await self._deps.require_live_session(principal)
        async with self._deps.db.transaction() as conn:
            account = await repository.lock_user(conn, user_id)
            if account is None:
                raise NotFound("user", str(user_id))
            moment = now()
            await repository.anonymise_user(conn, user_id, moment)
            await repository_sessions.revoke_sessions(
                conn, user_id, reason="account deleted", now=moment
            )
            deleted = events_pb2.UserDeleted(
                user_id=str(user_id), actor_id=principal.subject, username=account.username
            )
            await outbox.record(conn, USERS_ACCOUNTS, "users.user.deleted", user_id, deleted)
        await self._deps.cache.delete(Tier.PROFILES, user_key(user_id), f"profile:{user_id}")

    async def set_status(
        self,
        principal: Principal,
        user_id: uuid.UUID,
        status: users_pb2.UserStatus.ValueType,
        reason: str,
        until: datetime | None,
    ) -> users_pb2.User:
        name = convert.STATUS_NAMES.get(status)
        if name not in ("active", "suspended", "banned"):
            raise InvalidArgument("status", "must be ACTIVE, SUSPENDED or BANNED")
        moment = now()
        if name == "suspended" and (until is None or until <= moment):
            raise InvalidArgument("until", "a suspension needs an end in the future")
        reason = bounded_text("reason", reason, 1000)
        if principal.subject == str(user_id):
            raise PermissionDenied("nobody may change their own status", reason="SELF_STATUS")
        async with self._deps.db.transaction() as conn:
            target = await repository.lock_user(conn, user_id)
            if target is None:
                raise NotFound("user", str(user_id))
            if target.role != Role.USER.value and principal.role is not Role.ADMIN:
                raise PermissionDenied(
                    "only an admin may change a staff account's status", reason="STAFF_TARGET"
                )
            row = await repository.set_status(
                conn,
                user_id,
                status=name,
                reason=reason,
                until=until if name == "suspended" else None,
                now=moment,
            )
            if name != "active":
                await repository_sessions.revoke_sessions(
                    conn, user_id, reason=f"account {name}", now=moment
                )
            changed = events_pb2.UserStatusChanged(
                user_id=str(user_id),
                actor_id=principal.subject,
                before=convert.STATUSES[target.status],
                after=status,
                reason=reason,
            )
            await outbox.record(conn, USERS_ACCOUNTS, "users.user.status_changed", user_id, changed)
        await self.invalidate(user_id)
        return convert.user(row)


def _cacheable(user: bytes) -> bool:
    """A suspension's end changes what a read shows, so suspended users are read fresh."""
    return users_pb2.User.FromString(user).status != users_pb2.USER_STATUS_SUSPENDED
