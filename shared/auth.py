"""Signed, short-lived access tokens that every service verifies locally, without a call.

Tokens are HS256 JWTs under one secret shared by the services. A user token names
the user, their role and their session; a service token names the calling service
and carries the role `service`, the only role internal RPCs accept.
"""

from __future__ import annotations

import contextvars
import enum
import time
import uuid
from dataclasses import dataclass

import jwt

from shared.errors import PermissionDenied, Unauthenticated

ALGORITHM = "HS256"
ISSUER = "daira"
VERIFIED_TOKENS_KEPT = 50_000


class Role(enum.StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SERVICE = "service"


class Access(enum.Enum):
    """Who may call an RPC; every RPC of every service declares one."""

    PUBLIC = "public"
    USER = "user"  # any signed-in user, staff or service
    STAFF = "staff"  # moderators and admins
    ADMIN = "admin"
    SERVICE = "service"  # other Daira services only

    def admits(self, role: Role) -> bool:
        if self is Access.PUBLIC or self is Access.USER:
            return True
        if self is Access.STAFF:
            return role in (Role.MODERATOR, Role.ADMIN)
        if self is Access.ADMIN:
            return role is Role.ADMIN
        return role is Role.SERVICE


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (with their session) or a service."""

    subject: str
    role: Role
    session_id: str | None = None

    @property
    def user_id(self) -> uuid.UUID:
        return uuid.UUID(self.subject)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    def owns(self, user_id: uuid.UUID, *, services_too: bool = False) -> bool:
        """A user acts on their own account; admins (and, where allowed, services) on any."""
        if self.role is Role.ADMIN or (services_too and self.role is Role.SERVICE):
            return True
        return self.role is not Role.SERVICE and self.subject == str(user_id)


_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "principal", default=None
)


def current_principal() -> Principal:
    """The authenticated caller of the RPC being served."""
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated("this call needs an access token", reason="TOKEN_MISSING")
    return principal


def optional_principal() -> Principal | None:
    return _principal.get()


def set_principal(principal: Principal | None) -> contextvars.Token[Principal | None]:
    return _principal.set(principal)


def require_owner(principal: Principal, user_id: uuid.UUID, *, services_too: bool = False) -> None:
    if not principal.owns(user_id, services_too=services_too):
        raise PermissionDenied("you may act only on your own account", reason="NOT_ACCOUNT_OWNER")


class TokenService:
    """Issues and verifies access tokens and service tokens."""

    def __init__(self, secret: str, access_ttl_seconds: int) -> None:
        if len(secret) < 32:
            raise ValueError("the auth secret must be at least 32 characters")
        self._secret = secret
        self.access_ttl_seconds = access_ttl_seconds
        # Tokens already verified, with their expiry: a client sends the same token on
        # every call, and checking a signature costs more than the rest of a cached read.
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue_access(
        self, user_id: uuid.UUID, role: Role, session_id: uuid.UUID
    ) -> tuple[str, int]:
        """A user's access token and its expiry (epoch seconds)."""
        now = int(time.time())
        expires = now + self.access_ttl_seconds
        claims = {
            "iss": ISSUER,
            "sub": str(user_id),
            "role": role.value,
            "sid": str(session_id),
            "iat": now,
            "exp": expires,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires

    def issue_service(self, service: str, ttl_seconds: int = 300) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": f"service:{service}",
            "role": Role.SERVICE.value,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        principal, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss"]},
            )
            role = Role(claims["role"])
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the access token has expired", reason="TOKEN_EXPIRED") from None
        except (jwt.InvalidTokenError, KeyError, ValueError):
            raise Unauthenticated("the access token is not valid", reason="TOKEN_INVALID") from None
        principal = Principal(subject=claims["sub"], role=role, session_id=claims.get("sid"))
        return principal, float(claims["exp"])


def bearer_token(metadata: object) -> str | None:
    """The token of an `authorization: Bearer …` metadata entry, if any."""
    for key, value in metadata or ():  # type: ignore[attr-defined]
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
            return None
    return None
