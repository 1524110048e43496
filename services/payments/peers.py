"""What the payments service asks the users service: may this user receive money?

The answer (the account's status) is cached briefly in the profiles tier (Redis, and a
copy of a couple of seconds in each process), so a tip usually pays neither a call nor a
Redis round trip; a ban shows within `user_status_cache_seconds` (or the near copy's
lifetime, cache_near_ttl_seconds, when that is longer). The statuses not cached are
asked for in batches (shared.batching): the tips to many new recipients at once share
BatchGetUsers calls. Users leaves a deleted account out of its answer as one that never
existed, so both are "no live account".
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from google.protobuf import field_mask_pb2

from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.batching import Batcher
from shared.cache import Cache
from shared.clients import ServiceClient
from shared.errors import FailedPrecondition
from shared.tiers import Tier

REFUSED = {
    users_pb2.USER_STATUS_BANNED: "banned",
    users_pb2.USER_STATUS_DELETED: "deleted",
}
# Cached for an account users does not know (deleted, or never made).
NO_ACCOUNT = bytes([users_pb2.USER_STATUS_DELETED])


# BatchGetUsers' limit.
STATUS_BATCH = 100
STATUS_ONLY = field_mask_pb2.FieldMask(paths=["status"])


class Peers:
    def __init__(self, users: ServiceClient, cache: Cache, status_ttl_seconds: int) -> None:
        self._users = users
        self._stub = users.stub(users_pb2_grpc.UserServiceStub)
        self._cache = cache
        self._ttl = status_ttl_seconds
        self._statuses: Batcher[uuid.UUID, bytes] = Batcher(
            self._load_statuses, max_batch=STATUS_BATCH, split=False
        )

    async def close(self) -> None:
        await self._statuses.close()
        await self._users.close()

    async def _load_statuses(self, user_ids: Sequence[uuid.UUID]) -> list[bytes]:
        request = users_pb2.BatchGetUsersRequest(
            ids=[str(u) for u in user_ids], read_mask=STATUS_ONLY
        )
        reply = await self._users.call(self._stub.BatchGetUsers, request, idempotent=True)
        found = {user.id: bytes([user.status]) for user in reply.users}
        return [found.get(str(u), NO_ACCOUNT) for u in user_ids]

    async def require_recipient(self, user_id: uuid.UUID) -> None:
        """FAILED_PRECONDITION for a banned, deleted or unknown user."""

        async def load() -> bytes:
            return await self._statuses.submit(user_id)

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
