"""Blocks and mutes.

A block is written under the pair's lock, like every follow, and removes the follows
both ways (pending requests too) with their counts and friendship in the same
transaction; a follow that raced it either committed first (and is removed) or sees
the block (and is refused). A mute is one row, whose expiry is compared with the
time at each read, so nothing has to lift it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from google.protobuf import duration_pb2

from daira.social.v1 import social_pb2 as pb
from services.social import convert, graph, repository
from services.social.deps import Deps, now, other_user
from shared.auth import Principal
from shared.errors import InvalidArgument

MAX_MUTE = timedelta(days=365)


class Blocks:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def block(self, principal: Principal, blocked: uuid.UUID) -> None:
        me = other_user(principal, blocked)
        await self._deps.peers.account(blocked)  # NOT_FOUND for no such user
        async with graph.pair_transaction(self._deps.db, me, blocked) as conn:
            await repository.insert_block(conn, me, blocked, now())
            removed = await repository.delete_follows(conn, [(me, blocked), (blocked, me)])
            tally = graph.Tally()
            await graph.ended(conn, removed, tally)
            await tally.save(conn, self._deps.slot)

    async def unblock(self, principal: Principal, blocked: uuid.UUID) -> None:
        me = other_user(principal, blocked)
        async with graph.pair_transaction(self._deps.db, me, blocked) as conn:
            await repository.delete_block(conn, me, blocked)

    async def mute(
        self,
        principal: Principal,
        muted: uuid.UUID,
        notifications: bool,
        duration: duration_pb2.Duration | None,
    ) -> pb.Mute:
        me = other_user(principal, muted)
        length = _mute_length(duration) if duration is not None else None
        await self._deps.peers.account(muted)  # NOT_FOUND for no such user
        moment = now()
        expires = moment + length if length is not None else None
        async with self._deps.db.transaction() as conn:
            row = await repository.upsert_mute(conn, me, muted, notifications, expires, moment)
        return convert.mute(row)

    async def unmute(self, principal: Principal, muted: uuid.UUID) -> None:
        me = other_user(principal, muted)
        async with self._deps.db.transaction() as conn:
            await repository.delete_mute(conn, me, muted)


def _mute_length(duration: duration_pb2.Duration) -> timedelta:
    valid = -999_999_999 <= duration.nanos <= 999_999_999
    if not valid or duration.seconds * duration.nanos < 0:
        raise InvalidArgument("duration", "is not a valid duration")
    length = duration.ToTimedelta()
    if length <= timedelta(0):
        raise InvalidArgument("duration", "must be positive")
    if length > MAX_MUTE:
        raise InvalidArgument("duration", "must be at most 365 days")
    return length
