"""Follows and follow requests: each change is one pair-locked transaction that moves the
follow row, both users' counts, their friendship and the notification together."""

from __future__ import annotations

import uuid

from services.social import graph, repository
from services.social.deps import Deps, now, other_user
from services.social.notifications import notify
from shared.auth import Principal
from shared.errors import NotFound


class Follows:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def follow(self, principal: Principal, followee: uuid.UUID) -> str:
        """ACTIVE, or PENDING when the followee's account is locked; a repeat changes nothing."""
        me = other_user(principal, followee)
        state = "pending" if (await self._deps.peers.account(followee)).locked else "active"
        async with graph.pair_transaction(self._deps.db, me, followee) as conn:
            moment = now()
            follow = await repository.insert_follow(conn, me, followee, state, moment)
            if follow.blocked:
                raise graph.blocked()
            if follow.inserted is None:  # it conflicted with one the pair's lock keeps
                return str(follow.existing)
            await notify(conn, [followee], "follow" if state == "active" else "follow_request", me)
            if state == "active":
                tally = graph.Tally()
                mutual = follow.reverse == "active"
                await graph.started(conn, me, followee, moment, tally, mutual=mutual)
                await tally.save(conn, self._deps.slot)
        return state

    async def unfollow(self, principal: Principal, followee: uuid.UUID) -> None:
        """Ends a follow or withdraws a request; nothing to end is fine."""
        me = other_user(principal, followee)
        async with graph.pair_transaction(self._deps.db, me, followee) as conn:
            removed = await repository.delete_follows(conn, [(me, followee)])
            tally = graph.Tally()
            await graph.ended(conn, removed, tally)
            await tally.save(conn, self._deps.slot)

    async def approve(self, principal: Principal, follower: uuid.UUID) -> None:
        me = other_user(principal, follower)
        async with graph.pair_transaction(self._deps.db, me, follower) as conn:
            moment = now()
            if not await repository.approve_follow(conn, follower, me, moment):
                raise NotFound("follow_request", str(follower))
            await notify(conn, [follower], "follow_approved", me)
            tally = graph.Tally()
            mutual = await repository.follow_state(conn, me, follower) == "active"
            await graph.started(conn, follower, me, moment, tally, mutual=mutual)
            await tally.save(conn, self._deps.slot)

    async def reject(self, principal: Principal, follower: uuid.UUID) -> None:
        me = other_user(principal, follower)
        async with graph.pair_transaction(self._deps.db, me, follower) as conn:
            if not await repository.delete_follows(conn, [(follower, me)], state="pending"):
                raise NotFound("follow_request", str(follower))
