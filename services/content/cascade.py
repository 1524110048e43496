"""A deleted account leaves no content readable: its posts, comments and videos are
soft-deleted, as their author's own deletions would be.

- Posts go in batches of `BATCH`, each a transaction of its own that records
  content.post.removed for each published one (feeds drop them), then their cached copies
  are dropped and their media's bytes given back to the account's quota in users (users
  keeps a deleted account's usage row, so its reservations balance; what users cannot
  take now stays releasing for the reconciler), exactly as for a post deleted by hand.
- Comments go in batches too, each with the replies below it, as a deletion by their
  author would take them; every post they were on is locked first (in id order, as the
  post batches lock theirs) and its comments_count, and the parent's replies_count, move
  by exactly what was removed.
- The posts of others that mention the user show the mention no more (in batches too,
  their cached copies dropped after).
- Videos go last, in the consumer's transaction that records the event as handled.
- First of all, the id remembered for the account's username (for mentions) is
  forgotten: the name is free for another account to take.

Each batch removes only what is still there, so it is idempotent: a re-delivery after a
crash resumes where the last committed batch stopped, and none holds locks on more than
`BATCH` rows of others for long.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_events_pb2
from daira.users.v1 import users_events_pb2
from services.content import (
    events,
    repository,
    repository_comments,
    repository_media,
    repository_videos,
)
from services.content.comments import remove_thread
from services.content.deps import Deps, now
from services.content.media import Media
from shared.eventing import Subscription, on_user_deleted

GROUP = "content.cascade"
BATCH = 200


def subscription(deps: Deps) -> Subscription:
    async def cascade(
        conn: AsyncConnection, user_id: uuid.UUID, deleted: users_events_pb2.UserDeleted
    ) -> None:
        if deleted.username:
            await deps.peers.forget_username(deleted.username)
        await Cascade(deps, user_id, deleted.actor_id).run(conn)

    return on_user_deleted(GROUP, cascade)


class Cascade:
    def __init__(self, deps: Deps, user_id: uuid.UUID, actor: str) -> None:
        self._deps = deps
        self._user = user_id
        self._actor = actor
        self._media = Media(deps)

    async def run(self, conn: AsyncConnection) -> None:
        while await self._delete_posts():
            pass
        while await self._delete_comments():
            pass
        while await self._forget_mentions():
            pass
        await repository_videos.delete_videos_of(conn, self._user, now())

    async def _delete_posts(self) -> bool:
        """One batch of the user's posts; whether there was any."""
        async with self._deps.db.transaction() as conn:
            moment = now()
            removed = await repository.delete_posts_of(conn, self._user, BATCH, moment)
            if not removed:
                return False
            post_ids = [row.id for row in removed]
            owed = await repository_media.start_posts_release(conn, post_ids, moment)
            for row in removed:
                if row.published:
                    await events.post_removed(
                        conn,
                        row.id,
                        self._user,
                        self._actor,
                        content_events_pb2.POST_REMOVAL_DELETED,
                    )
        await self._deps.forget_posts(*post_ids)
        await self._media.settle(owed)
        return True

    async def _delete_comments(self) -> bool:
        """One batch of the user's comments, with their threads; whether there was any."""
        async with self._deps.db.transaction() as conn:
            theirs = await repository_comments.live_comments_of(conn, self._user, BATCH)
            if not theirs:
                return False
            post_ids = sorted({comment.post_id for comment in theirs})
            await repository.lock_posts(conn, post_ids)
            moment = now()
            for comment in theirs:
                await remove_thread(conn, comment, moment)
        await self._deps.forget_posts(*post_ids)
        return True

    async def _forget_mentions(self) -> bool:
        """One batch of the posts that mention the user; whether there was any."""
        async with self._deps.db.transaction() as conn:
            post_ids = await repository.forget_mentions_of(conn, self._user, BATCH)
        if post_ids:
            await self._deps.forget_posts(*post_ids)
        return bool(post_ids)
