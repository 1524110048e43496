"""Everything the content service asks other services, each behind one method.

Users resolves mentions and keeps the storage quota. Social (not built yet) will
answer who follows or blocks whom and how a post was reacted to; until it exists
those methods answer "unknown", which every caller treats as social being down.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence

import grpc

from daira.content.v1 import content_pb2 as pb
from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.clients import ServiceClient
from shared.errors import DomainError, Relayed, Unavailable
from shared.logs import get_logger

log = get_logger("daira.content.peers")


class Relation(enum.Enum):
    """What an author is to a viewer, as far as the content service can tell."""

    UNKNOWN = "unknown"  # social could not be asked
    FOLLOWER = "follower"
    BLOCKED = "blocked"  # the author blocks the viewer


class Peers:
    def __init__(self, users: ServiceClient) -> None:
        self._users = users
        self._user_stub = users.stub(users_pb2_grpc.UserServiceStub)

    async def close(self) -> None:
        await self._users.close()

    async def resolve_mentions(self, usernames: Sequence[str]) -> dict[str, uuid.UUID] | None:
        """Username → id of the names that belong to a user; None if users cannot answer."""
        if not usernames:
            return {}
        request = users_pb2.LookupUsersRequest(usernames=list(usernames))
        try:
            reply = await self._users.call(self._user_stub.LookupUsers, request, idempotent=True)
        except DomainError as exc:
            log.warning("mentions left unresolved", error=exc.message)
            return None
        return {user.username: uuid.UUID(user.id) for user in reply.users}

    async def reserve_storage(self, user_id: uuid.UUID, size: int, key: str) -> None:
        """Count `size` bytes against the user's quota under `key` (idempotent).

        Raises the users service's refusal (FAILED_PRECONDITION when over quota) as
        Relayed, and Unavailable or DeadlineExceeded when the outcome is unknown.
        """
        request = users_pb2.ReserveStorageRequest(user_id=str(user_id), bytes=size, request_id=key)
        await self._users.call(self._user_stub.ReserveStorage, request, idempotent=True)

    async def release_storage(self, user_id: uuid.UUID, key: str) -> None:
        """Give back the bytes reserved under `key`; a reservation that never was is fine.

        Raises Unavailable or DeadlineExceeded when users could not be told.
        """
        request = users_pb2.ReleaseStorageRequest(user_id=str(user_id), reservation_request_id=key)
        try:
            await self._users.call(self._user_stub.ReleaseStorage, request, idempotent=True)
        except Relayed as exc:
            if exc.code is not grpc.StatusCode.NOT_FOUND:
                raise Unavailable(f"users refused a release: {exc.message}") from exc

    async def relations(
        self, viewer: uuid.UUID, authors: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Relation]:
        """How each author relates to the viewer. Social does not exist yet: unknown."""
        return dict.fromkeys(authors, Relation.UNKNOWN)

    async def reactions(self, post_ids: Iterable[str]) -> dict[str, pb.ReactionCounts]:
        """Reaction counts per post. Social does not exist yet: unavailable."""
        return {post_id: pb.ReactionCounts(available=False) for post_id in post_ids}
