"""What the payments service asks the users service: may this user receive money?

The answer (the account's status) is cached briefly in the profiles tier (Redis, and a
copy of a couple of seconds in each process), so a tip usually pays neither a call nor a
Redis round trip; a ban shows within `user_status_cache_seconds` (or the near copy's
lifetime, cache_near_ttl_seconds, when that is longer). Users answers NOT_FOUND
for a deleted account as for one that never existed, so both are "no live account".
"""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import field_mask_pb2

from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.cache import Cache, Tier
from shared.clients import ServiceClient
from shared.errors import FailedPrecondition, Relayed

REFUSED = {
    users_pb2.USER_STATUS_BANNED: "banned",
    users_pb2.USER_STATUS_DELETED: "deleted",
}
# Cached for an account users does not know (deleted, or never made).
NO_ACCOUNT = bytes([users_pb2.USER_STATUS_DELETED])


class Peers:
    def __init__(self, users: ServiceClient, cache: Cache, status_ttl_seconds: int) -> None:
        self._users = users
        self._stub = users.stub(users_pb2_grpc.UserServiceStub)
        self._cache = cache
        self._ttl = status_ttl_seconds

    async def close(self) -> None:
        await self._users.close()

    async def require_recipient(self, user_id: uuid.UUID) -> None:
        """FAILED_PRECONDITION for a banned, deleted or unknown user."""

        async def load() -> bytes:
            request = users_pb2.GetUserRequest(
                id=str(user_id), read_mask=field_mask_pb2.FieldMask(paths=["status"])
            )
            try:
                reply = await self._users.call(self._stub.GetUser, request, idempotent=True)
            except Relayed as exc:
                if exc.code is grpc.StatusCode.NOT_FOUND:
                    return NO_ACCOUNT
                raise
            return bytes([reply.user.status])

        found = await self._cache.get_or_load(
            Tier.PROFILES, f"user-status:{user_id}", load, ttl_seconds=self._ttl
        )
        refused = REFUSED.get(found[0]) if found else "deleted"  # type: ignore[call-overload]
        if refused is not None:
            raise FailedPrecondition(
                f"the recipient has no account in good standing ({refused})",
                reason="RECIPIENT_UNAVAILABLE",
                metadata={"user_id": str(user_id), "status": refused},
            )
