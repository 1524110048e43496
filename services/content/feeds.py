"""Lists of posts: an author's timeline, trending, and a hashtag's posts; keyset pages.

Each list is one indexed query for its page's post ids and positions; the posts
themselves come through the posts cache (`Posts.ordered`: one MGET, one query for those
not cached), as GetPost's do, so a hot list's page is not rebuilt from rows each time.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from daira.content.v1 import content_pb2 as pb
from services.content import paging, parsing, repository, repository_lists
from services.content.deps import Deps, now
from services.content.posts import Posts
from services.content.repository import Record
from shared import pagination
from shared.auth import Principal
from shared.errors import InvalidArgument
from shared.visibility import Relation, is_self, privileged, visibilities

WINDOWS = {
    pb.TRENDING_WINDOW_HOUR: ("hour", timedelta(hours=1)),
    pb.TRENDING_WINDOW_DAY: ("day", timedelta(days=1)),
    pb.TRENDING_WINDOW_WEEK: ("week", timedelta(weeks=1)),
}


class Feeds:
    def __init__(self, deps: Deps, posts: Posts) -> None:
        self._deps = deps
        self._posts = posts

    async def user_posts(
        self, principal: Principal, author_id: uuid.UUID, size: int, token: str
    ) -> tuple[list[pb.Post], str]:
        """Newest first, as the caller may see them: social decides followers and blocks,
        and while it cannot be asked others see public posts only."""
        limit = pagination.page_size(size)
        query = {"posts": str(author_id)}
        after = paging.position(token, query)
        relation = Relation.UNKNOWN
        if not (privileged(principal) or is_self(principal, author_id)):
            relations = await self._deps.peers.relations(principal.user_id, [str(author_id)])
            relation = relations[str(author_id)]
        shown = visibilities(principal, author_id, relation)
        if not shown:
            return [], ""
        page = repository_lists.user_posts_query(
            author_id, shown, privileged(principal), after, limit + 1
        )
        async with self._deps.db.connection() as conn:
            rows = await repository.rows_of(conn, page)
        rows, next_token = paging.page(rows, limit, paging.by_time, query)
        posts = await self._posts.decorate(await self._listed(rows), None)
        return posts, next_token

    async def trending(
        self, principal: Principal, window: int, size: int, token: str
    ) -> tuple[list[pb.Post], str]:
        limit = pagination.page_size(size)
        name, span = WINDOWS.get(window or pb.TRENDING_WINDOW_DAY, (None, None))  # type: ignore[call-overload]
        if name is None:
            raise InvalidArgument("window", "must be HOUR, DAY or WEEK")
        query = {"trending": name}
        after = paging.position(token, query, scored=True)
        page = repository_lists.trending_query(now() - span, after, limit + 1)
        async with self._deps.db.connection() as conn:
            rows = await repository.rows_of(conn, page)
        rows, next_token = paging.page(rows, limit, paging.by_score, query)
        posts = await self._posts.present(principal, await self._listed(rows), None)
        return posts, next_token

    async def hashtag(
        self, principal: Principal, tag: str, size: int, token: str
    ) -> tuple[list[pb.Post], str]:
        normalized = parsing.normalize_tag(tag)
        if normalized is None:
            raise InvalidArgument("tag", "must be a hashtag: letters, digits and _, up to 100")
        limit = pagination.page_size(size)
        query = {"tag": normalized}
        after = paging.position(token, query)
        page = repository_lists.hashtag_query(normalized, after, limit + 1)
        async with self._deps.db.connection() as conn:
            rows = await repository.rows_of(conn, page)
        rows, next_token = paging.page(rows, limit, paging.by_time, query)
        posts = await self._posts.present(principal, await self._listed(rows), None)
        return posts, next_token

    async def _listed(self, rows: list[Record]) -> list[pb.Post]:
        """The posts of a page's rows, in its order."""
        return await self._posts.ordered([str(row.id) for row in rows])
