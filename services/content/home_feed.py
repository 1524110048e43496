"""The home feed: the posts of the accounts a user follows, and their own, newest first.

Reads come from the user's feed in Redis (`feed_store`), filled on write: each published
post is added to its followers' feeds by the fan-out consumer (`feed_fanout`), except the
posts of celebrities (authors the fan-out found with more followers than
`feed_celebrity_followers`: `feed_store.mark_celebrity`), which are merged in at read
time from each celebrity's newest posts, kept in Redis once for all their followers
(read from the database when missing). A missing feed (new, expired or evicted) is rebuilt
from the database before the first page is answered, so that page is never empty or
partial; with Redis down the whole page comes from the database.

Every page is filtered as the reader may see it now: deleted and moderated posts, posts
of authors they no longer follow or who block them (until the fan-out's clean-up has
caught up) and of authors they mute are left out. The authors of a page come from one
call to users, made while social is asked what the reader may see and the reaction
counts (so the page waits for the slower of the two, not both in turn).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC
from typing import Any

from redis.exceptions import RedisError

from daira.content.v1 import content_pb2 as pb
from services.content import repository_feed
from services.content.deps import Deps, require_user
from services.content.feed_audience import Audiences
from services.content.feed_store import (
    Entry,
    FeedStore,
    Page,
    moment,
    score,
)
from services.content.peers import Link
from services.content.posts import Posts
from shared import pagination
from shared.auth import Principal
from shared.errors import DomainError, InvalidArgument
from shared.logs import get_logger
from shared.visibility import Relation

log = get_logger("daira.content.home_feed")

# Candidates read in the first round for n posts wanted: n and a quarter more, for the few
# that filtering drops (the fan-out soon takes the posts of authors unfollowed, blocked or
# muted out of feeds, and of posts gone), so a page rarely needs a second round; every
# candidate read costs its post, its reaction counts and its author. A page whose
# candidates were mostly dropped is likely among many more: each further round reads
# twice as many for what is still wanted.
SPARE_PART = 4
ROUNDS = 3
# A celebrity's newest posts are kept for all their followers: not as any one reader's
# (whose own private posts the query would include).
NO_READER = uuid.UUID(int=0)


class HomeFeed:
    def __init__(self, deps: Deps, posts: Posts) -> None:
        self._deps = deps
        self._posts = posts
        settings = deps.settings
        self.store = FeedStore(deps.runtime.redis, settings.feed_size, settings.feed_idle_seconds)
        self.audiences = Audiences(deps.runtime.redis, self.store.horizon)
        # Rebuilds under way in this process, by user: a read of a feed being rebuilt
        # waits for that rebuild rather than starting another.
        self._rebuilds: dict[uuid.UUID, asyncio.Future[Page | None]] = {}

    async def page(
        self, principal: Principal, size: int, token: str
    ) -> tuple[list[pb.Post], list[pb.Author], str]:
        me = require_user(principal)
        limit = pagination.page_size(size)
        scope = {"home_feed": str(me)}
        position = pagination.decode(token, scope)
        below = _cursor(position) if position is not None else None
        shown: list[pb.Post] = []
        known: dict[str, pb.Author] = {}
        last: Entry | None = below
        for round_ in range(ROUNDS):
            wanted = limit - len(shown)
            count = (wanted + math.ceil(wanted / SPARE_PART)) * 2**round_
            entries, more = await self._candidates(me, last, count)
            if not entries:
                break
            visible, authors = await self._visible(principal, me, entries)
            shown += visible
            known.update((a.user_id, a) for a in authors)
            last = entries[-1]
            if len(shown) >= limit or not more:
                break
        else:
            more = True
        if len(shown) > limit:
            shown, more = shown[:limit], True
            last = (score(shown[-1].create_time.ToDatetime(tzinfo=UTC)), shown[-1].id)
        next_token = pagination.encode([last[0], last[1]], scope) if more and last else ""
        named = dict.fromkeys(p.author_id for p in shown)
        return shown, [known[a] for a in named if a in known], next_token

    async def _visible(
        self, principal: Principal, me: uuid.UUID, entries: list[Entry]
    ) -> tuple[list[pb.Post], list[pb.Author]]:
        """The entries' posts the reader may see now, and who wrote the posts found: users
        is asked at the same time as social, for the authors of posts social may hide."""
        ordered = await self._posts.ordered([post_id for _, post_id in entries])

        def followed(post: pb.Post, link: Link) -> bool:
            if post.author_id == str(me):
                return True
            return link.relation in (Relation.FOLLOWER, Relation.UNKNOWN) and not link.muted

        return await asyncio.gather(
            self._posts.present(principal, ordered, None, keep=followed),
            self._deps.peers.authors(list(dict.fromkeys(p.author_id for p in ordered))),
        )

    async def _candidates(
        self, me: uuid.UUID, below: Entry | None, count: int
    ) -> tuple[list[Entry], bool]:
        """Up to `count` entries older than `below`, newest first, and whether there may
        be more."""
        try:
            return await self._from_store(me, below, count)
        except RedisError as exc:
            log.warning("home feed read from the database: Redis is down", error=repr(exc))
            return await self._from_database(me, below, count)

    async def _from_store(
        self, me: uuid.UUID, below: Entry | None, count: int
    ) -> tuple[list[Entry], bool]:
        top = below[0] if below else None
        # Entries are read from `below`'s score on, inclusive (posts of one moment differ
        # by id only), so `below` itself comes back too: one more is read for it, and one
        # to tell whether there are more. A timeline that filled the read may hold more.
        read = count + 2
        stored = await self.store.page(me, top, read)
        if stored is None:
            stored = await self._rebuilt(me) or await self.store.page(me, top, read)
        if stored is None:  # gone again at once (evicted): answer from the database
            return await self._from_database(me, below, count)
        timelines = [stored.entries]
        for celebrity, kept in stored.celebrities.items():
            timelines.append(kept if kept is not None else await self._keep_recent(celebrity))
        entries: set[Entry] = set()
        more = False
        for timeline in timelines:  # each newest first
            older = [entry for entry in timeline if below is None or entry < below]
            more = more or len(older) > count or len(timeline) == read
            entries.update(older[:count])
        ordered = sorted(entries, reverse=True)
        return ordered[:count], more or len(ordered) > count

    async def _from_database(
        self, me: uuid.UUID, below: Entry | None, count: int
    ) -> tuple[list[Entry], bool]:
        authors = [me, *(await self._followed(me) or [])]
        entries = await self._newest(me, authors, below, count + 1)
        return entries[:count], len(entries) > count

    async def _rebuilt(self, me: uuid.UUID) -> Page | None:
        """`rebuild`, once at a time per user in this process: the reads that find the feed
        missing together wait for one rebuild (each would otherwise ask social for everyone
        the user follows and read all their newest posts)."""
        running = self._rebuilds.get(me)
        if running is None:
            running = asyncio.ensure_future(self.rebuild(me))
            self._rebuilds[me] = running
            running.add_done_callback(lambda _: self._rebuilds.pop(me, None))
        return await asyncio.shield(running)

    async def rebuild(self, me: uuid.UUID) -> Page | None:
        """Build and keep the user's feed from the database: the newest posts of everyone
        they follow who is not a celebrity, and their own; the celebrities, to merge. The
        feed is begun before social is asked whom they follow, so a follow made meanwhile
        finds it kept, and its audiences joined after. When social cannot say whom they
        follow, the answer itself, and nothing kept."""
        size = self._deps.settings.feed_size
        await self.store.begin_build(me)
        followed = await self._followed(me)
        if followed is None:  # social could not say: answer, complete nothing
            return Page(await self._newest(me, [me], None, size), {})
        celebrities, _ = await asyncio.gather(
            self.store.celebrities_among(followed),
            self.audiences.join(str(me), [str(u) for u in followed]),
        )
        authors = [me, *(u for u in followed if str(u) not in celebrities)]
        entries = await self._newest(me, authors, None, size)
        await self.store.build(me, entries, celebrities)
        return None

    async def _keep_recent(self, celebrity: str) -> list[Entry]:
        """A celebrity's newest posts, from the database, kept for every follower's reads."""
        await self.store.begin_build_recent(celebrity)
        size = self._deps.settings.feed_size
        entries = await self._newest(NO_READER, [uuid.UUID(celebrity)], None, size)
        await self.store.build_recent(celebrity, entries)
        return entries

    async def _followed(self, me: uuid.UUID) -> list[uuid.UUID] | None:
        """Whom the user follows; None when social cannot say."""
        try:
            return await self._deps.peers.following(me)
        except DomainError as exc:
            log.warning("home feed: social did not say who is followed", error=exc.message)
            return None

    async def _newest(
        self, me: uuid.UUID, authors: list[uuid.UUID], below: Entry | None, count: int
    ) -> list[Entry]:
        before = repository_feed.NEWEST
        if below is not None:
            before = (moment(below[0]), uuid.UUID(below[1]))
        async with self._deps.db.connection() as conn:
            return await repository_feed.newest_of(conn, me, authors, count, before)


def _cursor(position: list[Any]) -> Entry:
    match position:
        case [int() as entry_score, str() as post_id]:
            return entry_score, post_id
    raise InvalidArgument("page_token", "is not a valid page token")
