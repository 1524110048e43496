"""Keeping home feeds by events: a published post goes into its followers' feeds, a removed
one leaves them, a new follow brings the followee's recent posts in, an ended one takes
them out.

The handlers change only Redis, so they run without a transaction (`repeatable`): each
change is made to be repeatable (adding or removing the same entries again changes
nothing) and to hold whatever order the events come in: reads filter by the current
relationship and drop posts that are gone, so a late clean-up or a re-delivered addition
only costs a page a filtered entry. A post goes to its author's audience (their followers
whose feed is kept: `feed_audience`), found from social when it is not kept. A
follow's posts are read from the database, and the follower joins the followee's
audience, only for a follower whose feed is kept (`FeedStore.kept`): a feed built later
does both itself. Posts of celebrities are never fanned out; when an author is first seen
over the threshold, their followers' feeds are told to merge them in at read time
instead.
"""

from __future__ import annotations

import uuid
from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_events_pb2, content_pb2
from daira.events.v1 import events_pb2
from daira.social.v1 import social_events_pb2
from services.content import repository_feed
from services.content.deps import Deps
from services.content.feed_audience import Audiences
from services.content.feed_store import FeedStore, score
from services.content.repository_feed import post_facts
from shared.eventing import Subscription, payload
from shared.ids import parse_id
from shared.streams import CONTENT_POSTS, SOCIAL_FOLLOWS
from shared.visibility import VISIBILITIES

GROUP = "content.feed"


class FeedFanout:
    def __init__(self, deps: Deps, store: FeedStore, audiences: Audiences) -> None:
        self._deps = deps
        self._store = store
        self._audiences = audiences

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(CONTENT_POSTS, GROUP, self.on_post, repeatable=True),
            Subscription(SOCIAL_FOLLOWS, GROUP, self.on_follow, repeatable=True),
        ]

    async def on_post(self, conn: AsyncConnection, event: events_pb2.Event) -> None:
        if event.type == "content.post.created":
            created = payload(event, content_events_pb2.PostCreated)
            entry = (score(created.create_time.ToDatetime(tzinfo=UTC)), created.post_id)
            await self._publish(created.author_id, created.visibility, entry)
        elif event.type == "content.post.restored":
            restored = payload(event, content_events_pb2.PostRestored)
            facts = await post_facts(conn, parse_id("post_id", restored.post_id))
            if facts is not None:
                entry = (score(facts.created_at), restored.post_id)
                visibility = VISIBILITIES[facts.visibility]
                await self._publish(restored.author_id, visibility, entry)
        elif event.type == "content.post.removed":
            removed = payload(event, content_events_pb2.PostRemoved)
            await self._store.remove([removed.author_id], [removed.post_id])
            await self._store.remove_recent(removed.author_id, [removed.post_id])
            if not await self._store.is_celebrity(removed.author_id):
                await self._store.remove(await self._readers(removed.author_id), [removed.post_id])

    async def _publish(
        self, author: str, visibility: content_pb2.Visibility.ValueType, entry: tuple[int, str]
    ) -> None:
        await self._store.add([author], [entry])
        if visibility == content_pb2.VISIBILITY_PRIVATE:
            return
        followers = await self._deps.peers.follower_count(author)
        if followers > self._deps.settings.feed_celebrity_followers:
            await self._store.add_recent(author, [entry])
            if await self._store.mark_celebrity(author):
                await self._store.follow_celebrity(await self._readers(author), author)
            return
        await self._store.add(await self._readers(author), [entry])

    async def _readers(self, author: str) -> list[str]:
        """`author`'s audience: their followers whose feed is kept (most keep none, and the
        others' feeds need no change), found from social when it is not kept itself."""
        readers = await self._audiences.readers(author)
        if readers is None:
            await self._audiences.begin(author)
            followers: list[str] = []
            async for page in self._deps.peers.followers(author):
                followers += page
            readers = await self._audiences.complete(author, followers)
        return readers

    async def on_follow(self, conn: AsyncConnection, event: events_pb2.Event) -> None:
        if event.type == "social.follow.started":
            started = payload(event, social_events_pb2.FollowStarted)
            follower, followee = _pair(started.follower_id, started.followee_id)
            if await self._store.is_celebrity(started.followee_id):
                await self._store.follow_celebrity([started.follower_id], started.followee_id)
            elif await self._store.kept([follower]):
                await self._audiences.join(started.follower_id, [started.followee_id])
                await self._store.add([follower], await self._recent(conn, follower, followee))
        elif event.type == "social.follow.ended":
            ended = payload(event, social_events_pb2.FollowEnded)
            follower, followee = _pair(ended.follower_id, ended.followee_id)
            await self._store.unfollow_celebrity(follower, ended.followee_id)
            await self._audiences.leave(ended.follower_id, ended.followee_id)
            if await self._store.kept([follower]):
                entries = await self._recent(conn, follower, followee)
                await self._store.remove([follower], [post_id for _, post_id in entries])

    async def _recent(
        self, conn: AsyncConnection, reader: uuid.UUID, author: uuid.UUID
    ) -> list[tuple[int, str]]:
        return await repository_feed.newest_of(
            conn, reader, [author], self._deps.settings.feed_size
        )


def _pair(follower: str, followee: str) -> tuple[uuid.UUID, uuid.UUID]:
    return parse_id("follower_id", follower), parse_id("followee_id", followee)
