"""What the social service tells the others, as events recorded in the transaction of the
change (`shared.outbox`): follows that start or end. The content service keeps home
feeds by them.

Follow events are recorded under the pair's lock (`graph.pair_transaction`), so a pair's
events are delivered in the order they happened; consumers still check the current
relationship where order matters, since retries can reorder deliveries.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.social.v1 import social_events_pb2 as events_pb2
from shared import outbox
from shared.streams import SOCIAL_FOLLOWS


async def follow_started(conn: AsyncConnection, follower: uuid.UUID, followee: uuid.UUID) -> None:
    started = events_pb2.FollowStarted(follower_id=str(follower), followee_id=str(followee))
    await outbox.record(conn, SOCIAL_FOLLOWS, "social.follow.started", follower, started)


async def follow_ended(conn: AsyncConnection, follower: uuid.UUID, followee: uuid.UUID) -> None:
    ended = events_pb2.FollowEnded(follower_id=str(follower), followee_id=str(followee))
    await outbox.record(conn, SOCIAL_FOLLOWS, "social.follow.ended", follower, ended)
