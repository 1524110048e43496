"""A deleted account leaves nothing in social: its follows and requests both ways (with
the other users' counts and friendships), its blocks and mutes both ways, its reactions
(with the counts of what it reacted to, each withdrawal told as social.reaction.changed)
and the notifications to it and from it.

A user may have millions of follows, so they are not removed in one transaction holding
a lock per pair until the end: the follows, reactions and notifications go in batches of
`BATCH`, each a short transaction of its own that removes only rows still there and moves
the counts by exactly what it removed, under the same pair locks as every follow and
block. Each batch is therefore idempotent, and a re-delivery after a crash resumes where
the last committed batch stopped; the blocks and mutes go last, in the consumer's
transaction that records the event as handled.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from services.social import (
    events,
    graph,
    repository,
    repository_notifications,
    repository_reactions,
)
from services.social.deps import Deps
from services.social.tables import reaction_counts
from shared.eventing import Subscription, on_user_deleted

GROUP = "social.cascade"
BATCH = 500

Step = Callable[[AsyncConnection], Awaitable[bool]]


def subscription(deps: Deps) -> Subscription:
    async def cascade(conn: AsyncConnection, user_id: uuid.UUID, _: object) -> None:
        await Cascade(deps, user_id).run(conn)

    return on_user_deleted(GROUP, cascade)


class Cascade:
    def __init__(self, deps: Deps, user_id: uuid.UUID) -> None:
        self._deps = deps
        self._user = user_id

    async def run(self, conn: AsyncConnection) -> None:
        for step in (self._end_follows, self._withdraw_reactions, self._drop_notifications):
            await self._until_done(step)
        await repository.delete_blocks_and_mutes_of(conn, self._user)

    async def _until_done(self, step: Step) -> None:
        """Run `step` in transactions of its own until it finds nothing left to remove."""
        while True:
            async with self._deps.db.transaction() as conn:
                if not await step(conn):
                    return

    async def _end_follows(self, conn: AsyncConnection) -> bool:
        """A batch of follows and requests both ways, ended as a block ends them."""
        pairs = await repository.follows_of(conn, self._user, BATCH)
        if not pairs:
            return False
        await repository.lock_pairs(conn, pairs)
        removed = await repository.delete_follows(conn, pairs)
        tally = graph.Tally()
        await graph.ended(conn, removed, tally)
        await tally.save(conn, self._deps.slot)
        return True

    async def _withdraw_reactions(self, conn: AsyncConnection) -> bool:
        """A batch of the user's reactions, each target's count of its kind down by one
        (a user has one reaction per target, so no two changes share a counter row)."""
        removed = await repository_reactions.delete_reactions_of(conn, self._user, BATCH)
        changes = [
            {
                "target_id": row.target_id,
                "target_kind": row.target_kind,
                "kind": row.kind,
                "slot": self._deps.slot(),
                "count": -1,
            }
            for row in removed
        ]
        withdrawn = [((row.target_kind, row.target_id), row.kind, None) for row in removed]
        await events.reactions_changed(conn, self._user, withdrawn)
        await repository.add_to_counters(conn, reaction_counts, changes)
        return bool(removed)

    async def _drop_notifications(self, conn: AsyncConnection) -> bool:
        return await repository_notifications.delete_notifications_of(conn, self._user, BATCH) > 0
