"""Reactions: one per user per target, counted exactly on striped rows in the same
transaction, and their author notified of a first reaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.social.v1 import social_pb2 as pb
from services.social import convert, events, graph, paging, repository, repository_reactions
from services.social.deps import Deps, now, require_user
from services.social.notifications import notify
from services.social.peers import Post
from services.social.repository import Target
from services.social.tables import reaction_counts
from shared.auth import Principal
from shared.errors import InvalidArgument, NotFound
from shared.visibility import Relation, sees

MAX_BATCH = 100


class Reactions:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def react(
        self, principal: Principal, token: str, target: Target, kind: str
    ) -> pb.Reaction:
        """The caller's reaction, now `kind`. The target must be one the caller may see:
        a post by the visibility rule, applied here from content's facts and social's own
        graph; a comment or video by content, asked as the caller."""
        me = require_user(principal)
        post = await self._deps.peers.post(target[1]) if target[0] == "post" else None
        if post is not None:
            author = post.author
        else:
            author = await self._deps.peers.author(target, token)
        async with self._deps.db.transaction() as conn:
            if post is not None:
                await _require_sight(conn, principal, target[1], post)
            row = await repository_reactions.upsert_reaction(conn, target, me, author, kind, now())
            if row is None:
                if post is not None:  # hidden from them if it is its author who blocks them
                    await _require_sight(conn, principal, target[1], post, blocked=True)
                raise graph.blocked()
            if row.previous is None:
                await notify(conn, [author], "reaction", me, target)
            if row.previous != kind:
                await events.reactions_changed(conn, me, [(target, row.previous, kind)])
                await self._count(conn, target, kind, row.previous)
        return convert.reaction(row)

    async def unreact(self, principal: Principal, target: Target) -> None:
        me = require_user(principal)
        async with self._deps.db.transaction() as conn:
            removed = await repository_reactions.delete_reaction(conn, target, me)
            if removed is not None:
                await events.reactions_changed(conn, me, [(target, removed, None)])
                await self._count(conn, target, None, removed)

    async def _count(
        self, conn: AsyncConnection, target: Target, added: str | None, removed: str | None
    ) -> None:
        changes = [
            {
                "target_id": target[1],
                "target_kind": target[0],
                "kind": kind,
                "slot": self._deps.slot(),
                "count": delta,
            }
            for kind, delta in ((added, 1), (removed, -1))
            if kind is not None
        ]
        await repository.add_to_counters(conn, reaction_counts, changes)

    async def counts(self, targets: Sequence[pb.Target]) -> pb.GetReactionCountsResponse:
        """Each target's counts, written straight into the answer (made apart, with its map
        as keywords, and copied in, a target's counts cost three times as much)."""
        if len(targets) > MAX_BATCH:
            raise InvalidArgument("targets", f"at most {MAX_BATCH} per call")
        wanted = list(
            dict.fromkeys(convert.target_text(f"targets[{i}]", t) for i, t in enumerate(targets))
        )
        answer = pb.GetReactionCountsResponse()
        if not wanted:
            return answer
        async with self._deps.db.connection() as conn:
            rows = await repository_reactions.counts_of(conn, wanted)
        for target, row in zip(wanted, rows, strict=True):
            convert.fill_reaction_counts(answer.counts.add(), target, row)
        return answer

    async def list(self, target: Target, size: int, token: str) -> tuple[list[pb.Reaction], str]:
        rows, next_token = await paging.newest_first(
            self._deps.db,
            repository_reactions.REACTIONS,
            {"target_kind": target[0], "target_id": target[1]},
            "user_id",
            {"reactions": [target[0], str(target[1])]},
            size,
            token,
        )
        return [convert.reaction(row) for row in rows], next_token


async def _require_sight(
    conn: AsyncConnection,
    principal: Principal,
    post_id: uuid.UUID,
    post: Post,
    *,
    blocked: bool = False,
) -> None:
    """NOT_FOUND, as content answers, unless the caller may see the post. How its author
    relates to them is read only when that decides: a post a stranger may see is hidden
    only by its author's block, which the reaction's own write finds (`blocked`: a block
    stands between the two)."""
    if not blocked and sees(principal, *post, Relation.NONE):
        return
    if not sees(principal, *post, await repository.relation(conn, principal.user_id, post.author)):
        raise NotFound("post", str(post_id))
