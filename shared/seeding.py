"""What the demo seeds of `make run` share: finding the users service's demo accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.errors import DomainError
from shared.server import Runtime


async def user_ids(runtime: Runtime, usernames: Sequence[str]) -> dict[str, uuid.UUID]:
    """The ids of these accounts, asked of the users service, which alone knows them.

    DomainError when users cannot answer or an account is not there (yet)."""
    async with runtime.client("users") as users:
        stub = users.stub(users_pb2_grpc.UserServiceStub)
        reply = await users.call(
            stub.LookupUsers,
            users_pb2.LookupUsersRequest(usernames=list(usernames)),
            idempotent=True,
        )
    found = {user.username: uuid.UUID(user.id) for user in reply.users}
    missing = sorted(set(usernames) - set(found))
    if missing:
        raise DomainError(f"no accounts {', '.join(missing)} yet")
    return found
