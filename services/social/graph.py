"""The steps every change of the follow graph shares, inside one pair-locked transaction.

A follow becoming active or ending moves the two users' counts and, when the other
direction is active too, their friendship, in the same transaction as the follow row;
counts are gathered in a Tally and written once, at the end, as one upsert.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.social import events, repository
from services.social.tables import user_counts
from shared.db import Database
from shared.errors import FailedPrecondition


@asynccontextmanager
async def pair_transaction(
    db: Database, a: uuid.UUID, b: uuid.UUID
) -> AsyncIterator[AsyncConnection]:
    """A transaction holding the pair's lock: every writer of a pair takes it first."""
    async with db.transaction() as conn:
        await repository.lock_pair(conn, a, b)
        yield conn


def blocked() -> FailedPrecondition:
    return FailedPrecondition("one of these users blocks the other", reason="BLOCKED")


class Tally:
    """Changes to users' counts made by one transaction."""

    def __init__(self) -> None:
        self._changes: defaultdict[uuid.UUID, Counter[str]] = defaultdict(Counter)

    def add(self, user_id: uuid.UUID, delta: int, *counts: str) -> None:
        for count in counts:
            self._changes[user_id][count] += delta

    async def save(self, conn: AsyncConnection, slot: Callable[[], int]) -> None:
        changes = [
            {"user_id": user_id, "slot": slot(), **deltas}
            for user_id, deltas in self._changes.items()
            if any(deltas.values())
        ]
        await repository.add_to_counters(conn, user_counts, changes)


async def started(
    conn: AsyncConnection,
    follower: uuid.UUID,
    followee: uuid.UUID,
    now: datetime,
    tally: Tally,
    *,
    mutual: bool,
) -> None:
    """A follow just became active: count it, befriend the pair if it is `mutual` (the
    followee follows the follower, actively), and record social.follow.started."""
    await events.follow_started(conn, follower, followee)
    tally.add(follower, 1, "following")
    tally.add(followee, 1, "followers")
    if mutual:
        await repository.insert_friendship(conn, follower, followee, now)
        tally.add(follower, 1, "friends")
        tally.add(followee, 1, "friends")


async def ended(conn: AsyncConnection, removed: Sequence[repository.Record], tally: Tally) -> None:
    """Follow rows were just deleted: uncount the active ones, end their friendships, and
    record social.follow.ended for each."""
    for row in removed:
        if row.state != "active":
            continue
        await events.follow_ended(conn, row.follower_id, row.followee_id)
        tally.add(row.follower_id, -1, "following")
        tally.add(row.followee_id, -1, "followers")
        if await repository.delete_friendship(conn, row.follower_id, row.followee_id):
            tally.add(row.follower_id, -1, "friends")
            tally.add(row.followee_id, -1, "friends")
