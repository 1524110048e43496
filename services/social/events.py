"""What the social service tells the others, as events recorded in the transaction of the
change (`shared.outbox`): follows that start or end, by which the content service keeps
home feeds, and reactions that change, by which it ranks trending posts.

Follow events are recorded under the pair's lock (`graph.pair_transaction`), so a pair's
events are delivered in the order they happened; consumers still check the current
relationship where order matters, since retries can reorder deliveries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.social.v1 import social_events_pb2 as events_pb2
from daira.social.v1 import social_pb2
from services.social import convert
from services.social.repository import Target
from shared import outbox
from shared.streams import SOCIAL_FOLLOWS, SOCIAL_REACTIONS


async def follow_started(conn: AsyncConnection, follower: uuid.UUID, followee: uuid.UUID) -> None:
    started = events_pb2.FollowStarted(follower_id=str(follower), followee_id=str(followee))
    await outbox.record(conn, SOCIAL_FOLLOWS, "social.follow.started", follower, started)


async def follow_ended(conn: AsyncConnection, follower: uuid.UUID, followee: uuid.UUID) -> None:
    ended = events_pb2.FollowEnded(follower_id=str(follower), followee_id=str(followee))
    await outbox.record(conn, SOCIAL_FOLLOWS, "social.follow.ended", follower, ended)


# A reaction's change: its target, the kind before and the kind after (None: none).
Change = tuple[Target, str | None, str | None]


async def reactions_changed(
    conn: AsyncConnection, user: uuid.UUID, changes: Sequence[Change]
) -> None:
    """`user`'s reactions changed so, one event each (a cascade's batch in one statement)."""
    items = [
        (
            target[1],
            events_pb2.ReactionChanged(
                target=convert.target_message(*target),
                user_id=str(user),
                previous=_kind(previous),
                current=_kind(current),
            ),
        )
        for target, previous, current in changes
    ]
    await outbox.record_all(conn, SOCIAL_REACTIONS, "social.reaction.changed", items)


def _kind(kind: str | None) -> social_pb2.ReactionKind.ValueType:
    return social_pb2.REACTION_KIND_UNSPECIFIED if kind is None else convert.REACTION_KINDS[kind]
