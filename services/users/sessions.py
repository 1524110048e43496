"""Login, refresh-token rotation with theft detection, logout, and password changes.

A refresh token is `<session id>.<secret>`; the session stores only the SHA-256 of
its current secret. A token whose session exists but whose secret is not the
current one was already rotated: someone replayed it, so the whole session ends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from daira.users.v1 import users_pb2
from services.users import convert, repository, repository_sessions, validation
from services.users.deps import Deps, now, require_user
from services.users.repository import Record
from shared.auth import Principal, Role
from shared.errors import (
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from shared.validation import bounded_text

WRONG_CREDENTIALS = "the login or the password is wrong"
DEVICE_MAX = 200


@dataclass(frozen=True)
class Issued:
    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime
    session_id: uuid.UUID


def _secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _split_refresh_token(token: str) -> tuple[uuid.UUID, str]:
    session_part, _, secret = token.partition(".")
    try:
        session_id = uuid.UUID(hex=session_part)
    except ValueError:
        raise Unauthenticated("the refresh token is not valid", reason="REFRESH_INVALID") from None
    if not secret:
        raise Unauthenticated("the refresh token is not valid", reason="REFRESH_INVALID")
    return session_id, secret


def _blocked(status: str, until: datetime | None) -> PermissionDenied | None:
    effective = convert.effective_status(status, until, now())
    if effective == "banned":
        return PermissionDenied("this account is banned", reason="ACCOUNT_BANNED")
    if effective == "suspended":
        return PermissionDenied("this account is suspended", reason="ACCOUNT_SUSPENDED")
    return None


class Sessions:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _issue(self, user_id: uuid.UUID, role: str, session_id: uuid.UUID, secret: str) -> Issued:
        token, expires = self._deps.runtime.tokens.issue_access(user_id, Role(role), session_id)
        return Issued(
            access_token=token,
            access_expires=datetime.fromtimestamp(expires, now().tzinfo),
            refresh_token=f"{session_id.hex}.{secret}",
            refresh_expires=now() + timedelta(days=self._deps.settings.refresh_token_ttl_days),
            session_id=session_id,
        )

    async def login(self, login: str, password: str, device: str) -> tuple[Issued, Record]:
        """Tokens and the user's row; every wrong answer looks and takes the same."""
        subject = login.strip().lower()
        device = bounded_text("device", device, DEVICE_MAX)
        limiter = self._deps.login_failures
        # Counted before the password is checked, so parallel guesses cannot outrun the limit.
        verdict = await limiter.hit(subject)
        if not verdict.allowed:
            raise ResourceExhausted(
                "too many failed logins; try again later",
                retry_after_seconds=verdict.retry_after_seconds,
                reason="LOGIN_RATE_LIMITED",
            )
        async with self._deps.db.connection() as conn:
            findable = subject and "\x00" not in subject
            row = await repository.find_for_login(conn, subject) if findable else None
        stored = row.password_hash if row is not None else None
        if not await self._deps.passwords.verify(stored, password):
            raise Unauthenticated(WRONG_CREDENTIALS, reason="WRONG_CREDENTIALS")
        assert row is not None
        blocked = _blocked(row.status, row.status_until)
        if blocked is not None:
            raise blocked
        await limiter.reset(subject)
        secret = secrets.token_urlsafe(32)
        session_id = uuid.UUID(int=uuid.uuid4().int)
        moment = now()
        async with self._deps.db.transaction() as conn:
            await repository_sessions.insert_session(
                conn,
                session_id=session_id,
                user_id=row.id,
                device=device,
                refresh_hash=_secret_hash(secret),
                now=moment,
                expires_at=moment + timedelta(days=self._deps.settings.refresh_token_ttl_days),
            )
            if self._deps.passwords.needs_rehash(row.password_hash):
                rehashed = await self._deps.passwords.hash(password)
                await repository.set_password_hash(conn, row.id, rehashed, moment)
        return self._issue(row.id, row.role, session_id, secret), row

    async def refresh(self, refresh_token: str) -> Issued:
        session_id, secret = _split_refresh_token(refresh_token.strip())
        moment = now()
        fresh = secrets.token_urlsafe(32)
        async with self._deps.db.transaction() as conn:
            row = await repository_sessions.lock_session(conn, session_id)
            if row is None or row.revoked_at is not None or row.expires_at <= moment:
                failure: Exception = Unauthenticated(
                    "the refresh token is not valid", reason="REFRESH_INVALID"
                )
            elif not hmac.compare_digest(bytes(row.refresh_hash), _secret_hash(secret)):
                failure = Unauthenticated(
                    "the refresh token is not valid", reason="REFRESH_INVALID"
                )
                if await repository_sessions.was_rotated(conn, session_id, _secret_hash(secret)):
                    await repository_sessions.revoke_sessions(
                        conn,
                        row.user_id,
                        reason="refresh token reused",
                        now=moment,
                        only=session_id,
                    )
                    failure = Unauthenticated(
                        "this refresh token was already used; the session is ended",
                        reason="REFRESH_REUSED",
                    )
            else:
                blocked = _blocked(row.status, row.status_until)
                if blocked is None:
                    await repository_sessions.rotate_session(
                        conn, session_id, bytes(row.refresh_hash), _secret_hash(fresh), moment
                    )
                    return self._issue(row.user_id, row.role, session_id, fresh)
                failure = blocked
        raise failure

    async def logout(self, principal: Principal, session_id: uuid.UUID | None) -> None:
        user_id = require_user(principal)
        target = session_id or uuid.UUID(str(principal.session_id))
        async with self._deps.db.transaction() as conn:
            ended = await repository_sessions.revoke_sessions(
                conn, user_id, reason="logout", now=now(), only=target
            )
        if not ended:
            raise NotFound("session", str(target))

    async def list(self, principal: Principal) -> list[users_pb2.Session]:
        user_id = require_user(principal)
        async with self._deps.db.connection() as conn:
            rows = await repository_sessions.list_live_sessions(conn, user_id, now())
        return [convert.session(row, principal.session_id) for row in rows]

    async def revoke_all(self, principal: Principal) -> int:
        user_id = require_user(principal)
        async with self._deps.db.transaction() as conn:
            return await repository_sessions.revoke_sessions(
                conn, user_id, reason="revoke all", now=now()
            )

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        user_id = require_user(principal)
        new = validation.password("new_password", new)
        await self._deps.require_live_session(principal)
        async with self._deps.db.connection() as conn:
            stored = await repository.password_hash(conn, user_id)
        if stored is None:
            raise NotFound("user", str(user_id))
        if not await self._deps.passwords.verify(stored, current):
            raise Unauthenticated("the current password is wrong", reason="WRONG_CREDENTIALS")
        new_hash = await self._deps.passwords.hash(new)
        moment = now()
        async with self._deps.db.transaction() as conn:
            await repository.set_password_hash(conn, user_id, new_hash, moment)
            await repository_sessions.revoke_sessions(
                conn,
                user_id,
                reason="password changed",
                now=moment,
                keep=uuid.UUID(str(principal.session_id)),
            )
