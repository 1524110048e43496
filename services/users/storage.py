"""Storage quota: usage per user against their tier, reserved and released by other services.

A reservation is keyed by the caller's request id, so a retried call counts once and
a release gives back exactly the bytes of the reservation it names, once. The quota
check is one conditional UPDATE on the user's usage row: concurrent reservations
queue on that row lock and each re-checks the quota against the committed total.
"""

from __future__ import annotations

import uuid

from daira.users.v1 import users_pb2
from services.users import convert, repository_storage
from services.users.accounts import Accounts
from services.users.deps import Deps, now
from shared.auth import Principal, require_owner
from shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from shared.validation import bounded_text, no_nul

REQUEST_ID_MAX = 200
TIER_NAME_MAX = 32


def _request_id(field: str, value: str) -> str:
    if not value or len(value) > REQUEST_ID_MAX:
        raise InvalidArgument(field, f"must be 1 to {REQUEST_ID_MAX} characters")
    return no_nul(field, value)


class Storage:
    def __init__(self, deps: Deps, accounts: Accounts) -> None:
        self._deps = deps
        self._accounts = accounts

    async def usage(self, principal: Principal, user_id: uuid.UUID) -> users_pb2.StorageUsage:
        require_owner(principal, user_id, services_too=True)
        async with self._deps.db.connection() as conn:
            row = await repository_storage.get_usage(conn, user_id)
        if row is None:
            raise NotFound("user", str(user_id))
        return convert.usage(row)

    async def reserve(
        self, user_id: uuid.UUID, size: int, request_id: str
    ) -> users_pb2.StorageUsage:
        if size <= 0:
            raise InvalidArgument("bytes", "must be positive")
        request_id = _request_id("request_id", request_id)
        moment = now()
        async with self._deps.db.transaction() as conn:
            if await repository_storage.get_usage(conn, user_id) is None:
                raise NotFound("user", str(user_id))
            claimed = await repository_storage.claim_reservation(
                conn, request_id, user_id, size, moment
            )
            if claimed is None:
                earlier = await repository_storage.find_reservation(conn, request_id)
                if earlier is None or earlier.user_id != user_id or earlier.bytes != size:
                    raise AlreadyExists(
                        "this request_id was used for a different reservation",
                        reason="REQUEST_ID_REUSED",
                        metadata={"request_id": request_id},
                    )
            elif not await repository_storage.add_usage_within_quota(conn, user_id, size, moment):
                raise FailedPrecondition(
                    "the storage quota does not allow this many bytes",
                    reason="QUOTA_EXCEEDED",
                    metadata={"user_id": str(user_id), "bytes": str(size)},
                )
            row = await repository_storage.get_usage(conn, user_id)
        assert row is not None
        return convert.usage(row)

    async def release(self, user_id: uuid.UUID, request_id: str) -> users_pb2.StorageUsage:
        request_id = _request_id("reservation_request_id", request_id)
        async with self._deps.db.transaction() as conn:
            released = await repository_storage.release_reservation(
                conn, request_id, user_id, now()
            )
            if released is None:
                earlier = await repository_storage.find_reservation(conn, request_id)
                if earlier is None or earlier.user_id != user_id:
                    raise NotFound("reservation", request_id)
            row = await repository_storage.get_usage(conn, user_id)
        if row is None:
            raise NotFound("user", str(user_id))
        return convert.usage(row)

    async def tiers(self) -> list[users_pb2.SubscriptionTier]:
        async with self._deps.db.connection() as conn:
            rows = await repository_storage.list_tiers(conn)
        return [convert.tier(row) for row in rows]

    async def set_tier(self, user_id: uuid.UUID, tier: str) -> users_pb2.StorageUsage:
        tier = bounded_text("tier", tier, TIER_NAME_MAX)
        async with self._deps.db.transaction() as conn:
            if not await repository_storage.tier_exists(conn, tier):
                raise NotFound("subscription_tier", tier)
            if not await repository_storage.set_tier(conn, user_id, tier, now()):
                raise NotFound("user", str(user_id))
            row = await repository_storage.get_usage(conn, user_id)
        await self._accounts.invalidate(user_id)
        assert row is not None
        return convert.usage(row)
