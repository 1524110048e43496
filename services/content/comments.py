"""Comments: idempotent creation with exact counters, reads as the caller may see them,
thread deletion, oldest-first pages.

A comment, its post's comments_count (and trending score) and its parent's
replies_count change in one transaction that locks the post row first; see
repository_comments for why that order makes the counts exact and deadlock-free. Its
content.comment.created event is recorded in that transaction too (social notifies the
post's and the parent's authors from it).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_pb2 as pb
from services.content import convert, events, paging, repository, repository_comments, validation
from services.content.deps import Deps, now, require_user
from services.content.posts import Posts
from shared import pagination
from shared.auth import Principal
from shared.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from shared.ids import new_id
from shared.visibility import is_self, privileged

ID_ONLY = frozenset({"id"})
AUTHOR_ONLY = frozenset({"author_id"})


class _Duplicate(Exception):
    """A concurrent call with the same request id committed first."""


class Comments:
    def __init__(self, deps: Deps, posts: Posts) -> None:
        self._deps = deps
        self._posts = posts

    async def create(
        self,
        principal: Principal,
        post_id: uuid.UUID,
        text: str,
        parent_id: uuid.UUID | None,
        request_id: str,
    ) -> pb.Comment:
        author = require_user(principal)
        text = validation.text("text", text, validation.COMMENT_TEXT_MAX)
        key = validation.request_id(request_id)
        digest = validation.digest(str(post_id), str(parent_id or ""), text)
        if key is not None:
            earlier = await self._replay(author, key, digest)
            if earlier is not None:
                return earlier
        # Raises NOT_FOUND unless the caller may see the post.
        post = await self._posts.get(principal, str(post_id), AUTHOR_ONLY)
        parent_author = None
        moment = now()
        try:
            async with self._deps.db.transaction() as conn:
                if await repository.add_comments(conn, post_id, 1, moment) is None:
                    raise NotFound("post", str(post_id))
                if parent_id is not None:
                    parent_author = await self._count_reply(conn, principal, parent_id, post_id)
                row = await repository_comments.insert_comment(
                    conn,
                    id=new_id(),
                    post_id=post_id,
                    author_id=author,
                    parent_id=parent_id,
                    text=text,
                    request_id=key,
                    request_digest=digest,
                    created_at=moment,
                )
                if row is None:
                    raise _Duplicate
                await events.comment_created(
                    conn,
                    row.id,
                    post_id,
                    author,
                    uuid.UUID(post.author_id),
                    uuid.UUID(parent_author) if parent_author is not None else None,
                )
        except _Duplicate:
            assert key is not None
            earlier = await self._replay(author, key, digest)
            assert earlier is not None
            return earlier
        await self._deps.forget_posts(post_id)
        return convert.comment(row)

    async def _count_reply(
        self, conn: AsyncConnection, principal: Principal, parent_id: uuid.UUID, post_id: uuid.UUID
    ) -> str:
        """Count the reply on its parent, which must be a live comment of the same post;
        the parent's author."""
        parent = await repository_comments.add_replies(conn, parent_id, post_id, 1)
        if parent is not None and (parent.moderation_state == "visible" or privileged(principal)):
            return str(parent.author_id)
        other = await repository_comments.get_comment(conn, parent_id)
        if parent is None and other is not None and other.post_id != post_id:
            raise InvalidArgument("parent_id", "must be a comment on the same post")
        raise NotFound("comment", str(parent_id))

    async def _replay(self, author: uuid.UUID, key: str, digest: str) -> pb.Comment | None:
        async with self._deps.db.connection() as conn:
            earlier = await repository_comments.find_comment_by_request(conn, author, key)
        if earlier is None:
            return None
        if earlier.request_digest != digest:
            raise AlreadyExists(
                "this request_id was used for a different comment",
                reason="REQUEST_ID_REUSED",
                metadata={"request_id": key},
            )
        if earlier.deleted_at is not None:
            raise NotFound("comment", str(earlier.id))
        return convert.comment(earlier)

    async def get(self, principal: Principal, comment_id: uuid.UUID) -> pb.Comment:
        """A live comment the caller may see, on a post the caller may see."""
        async with self._deps.db.connection() as conn:
            row = await repository_comments.get_comment(conn, comment_id)
        if row is None or (row.moderation_state != "visible" and not privileged(principal)):
            raise NotFound("comment", str(comment_id))
        try:
            await self._posts.get(principal, str(row.post_id), ID_ONLY)
        except NotFound:
            raise NotFound("comment", str(comment_id)) from None
        return convert.comment(row)

    async def delete(self, principal: Principal, comment_id: uuid.UUID) -> None:
        """By the comment's author, the post's author or staff; its replies go with it."""
        async with self._deps.db.connection() as conn:
            comment = await repository_comments.get_comment(conn, comment_id)
        if comment is None or (comment.moderation_state != "visible" and not privileged(principal)):
            raise NotFound("comment", str(comment_id))
        moment = now()
        async with self._deps.db.transaction() as conn:
            post = await repository.lock_post(conn, comment.post_id)
            if post is None:
                raise NotFound("comment", str(comment_id))
            allowed = (
                is_self(principal, comment.author_id)
                or is_self(principal, post.author_id)
                or privileged(principal)
            )
            if not allowed:
                raise PermissionDenied(
                    "only its author, the post's author or a moderator may delete a comment",
                    reason="NOT_COMMENT_AUTHOR",
                )
            if await remove_thread(conn, comment, moment) == 0:
                raise NotFound("comment", str(comment_id))
        await self._deps.forget_posts(comment.post_id)

    async def list(
        self,
        principal: Principal,
        post_id: uuid.UUID,
        parent_id: uuid.UUID | None,
        size: int,
        token: str,
    ) -> tuple[list[pb.Comment], str]:
        limit = pagination.page_size(size)
        query = {"comments": str(post_id), "parent": str(parent_id or "")}
        after = paging.position(token, query)
        await self._posts.get(principal, str(post_id), ID_ONLY)
        everything = privileged(principal)
        async with self._deps.db.connection() as conn:
            if parent_id is not None:
                parent = await repository_comments.get_comment(conn, parent_id)
                if parent is None or parent.post_id != post_id:
                    raise NotFound("comment", str(parent_id))
                if parent.moderation_state != "visible" and not everything:
                    raise NotFound("comment", str(parent_id))
            page = repository_comments.comments_query(
                post_id, parent_id, everything, after, limit + 1
            )
            rows = await repository.rows_of(conn, page)
        rows, next_token = paging.page(rows, limit, paging.by_time, query)
        return [convert.comment(row) for row in rows], next_token


async def remove_thread(conn: AsyncConnection, comment: repository.Record, moment: datetime) -> int:
    """Soft-delete a live comment with the replies below it and uncount them on its post
    and parent, the post's row locked by the caller; how many comments that removed (0 if
    it was gone already)."""
    removed = await repository_comments.delete_thread(conn, comment.post_id, comment.id, moment)
    if removed:
        await repository.add_comments(conn, comment.post_id, -removed, moment)
        if comment.parent_id is not None:
            await repository_comments.add_replies(conn, comment.parent_id, comment.post_id, -1)
    return removed
