"""Posts: idempotent creation with hashtags, mentions and media, cached reads, edits, deletion.

A post created with media is written unpublished with its media pending, and published
once their bytes are reserved (media.py tells how that survives failures); a text-only
post is published as it is written, in one transaction. The transaction that publishes a
post records its content.post.created event (feeds and mentions follow from it). Reads
hydrate the reaction counts of a whole batch or page in one call to social.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence

from daira.content.v1 import content_events_pb2 as events_pb2
from daira.content.v1 import content_pb2 as pb
from services.content import (
    convert,
    events,
    parsing,
    repository,
    repository_create,
    repository_media,
    validation,
)
from services.content.deps import POSTS_TIER, Deps, now, post_key, require_user
from services.content.media import Media, new_media, withdrawn
from services.content.peers import Link
from shared.auth import Principal
from shared.errors import Aborted, AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from shared.ids import canonical_ids, new_id, parse_id
from shared.messages import version_from_etag
from shared.visibility import (
    MODERATION_NAMES,
    VISIBILITY_NAMES,
    Relation,
    is_self,
    privileged,
    sees,
)

MAX_BATCH = 100
UPDATABLE = frozenset({"text", "visibility"})


class Posts:
    def __init__(self, deps: Deps, media: Media) -> None:
        self._deps = deps
        self._media = media

    async def create(
        self,
        principal: Principal,
        text: str,
        visibility: int,
        request_id: str,
        media: Sequence[validation.MediaFields] = (),
    ) -> pb.Post:
        author = require_user(principal)
        text = validation.text("text", text, validation.POST_TEXT_MAX)
        shown_to = _visibility("visibility", visibility, default="public")
        items = validation.media_items("media", media)
        key = validation.request_id(request_id)
        digest = validation.digest(text, shown_to, *items)
        # A retry is found by the insert's conflict on its request id, not asked first:
        # a round trip fewer for every new post, a mentions lookup more for a retry.
        mentions = await self._mentions(text)
        post_id = new_id()
        moment = now()
        pending: list[repository.Record] = []
        async with self._deps.db.transaction() as conn:
            inserted = await repository_create.insert_post(
                conn,
                post_id=post_id,
                author_id=author,
                text=text,
                visibility=shown_to,
                tags=parsing.hashtags(text),
                mentions=mentions,
                request_id=key,
                request_digest=digest,
                published=not items,
                now=moment,
            )
            if inserted is not None and items:
                values = [new_media(post_id, author, item, moment) for item in items]
                pending = await repository_media.insert_media(conn, values)
            elif inserted is not None:
                mentioned = [user for user, _ in mentions]
                await events.post_created(conn, post_id, author, shown_to, moment, mentioned)
        if inserted is None:  # an earlier or concurrent call with the same request id
            assert key is not None
            earlier = await self._replay(author, key, digest, len(items))
            assert earlier is not None
            return earlier
        if pending:
            await self._media.store(post_id, pending, publish=True)
            return await self.get(principal, str(post_id), None)
        await self._deps.peers.remember_no_reactions(str(post_id))
        return await self._one(principal, convert.post(inserted), None)

    async def _replay(
        self, author: uuid.UUID, key: str, digest: str, media_count: int
    ) -> pb.Post | None:
        """The post an earlier call with this request id made, if the request is the same;
        finished first if that call did not get to publish it."""
        pending: list[repository.Record] = []
        async with self._deps.db.connection() as conn:
            earlier = await repository_create.find_post_by_request(conn, author, key)
            if earlier is None:
                return None
            if earlier.request_digest != digest:
                raise AlreadyExists(
                    "this request_id was used for a different post",
                    reason="REQUEST_ID_REUSED",
                    metadata={"request_id": key},
                )
            if not earlier.published:
                pending = await repository_media.pending_post_media(conn, earlier.id)
        if not earlier.published:
            if len(pending) != media_count:  # the reconciler is rolling it back
                raise withdrawn()
            await self._media.store(earlier.id, pending, publish=True)
        found = await self.load([str(earlier.id)])
        if str(earlier.id) not in found:
            raise NotFound("post", str(earlier.id))
        (post,) = await self.decorate([found[str(earlier.id)]], None)  # as the first call had it
        return post

    async def _mentions(self, text: str) -> list[tuple[uuid.UUID, str]]:
        """The text's mentions that name a user; none if users cannot be asked (degraded)."""
        names = parsing.mentions(text)
        resolved = await self._deps.peers.resolve_mentions(names)
        return [(resolved[name], name) for name in names if name in resolved]

    async def load(self, post_ids: Sequence[str]) -> dict[str, pb.Post]:
        """Live posts by canonical id, unfiltered: one MGET, then one query for the rest
        (a post another read is loading is awaited, not queried again)."""

        async def query(keys: list[str]) -> dict[str, bytes]:
            async with self._deps.db.connection() as conn:
                rows = await repository.batch_get_posts(conn, [ids[k] for k in keys])
            return {post_key(row.id): convert.post(row).SerializeToString() for row in rows}

        ids = {post_key(p): p for p in post_ids}
        found = await self._deps.cache.get_many_or_load(POSTS_TIER, ids, query)
        return {ids[key]: pb.Post.FromString(raw) for key, raw in found.items()}

    async def ordered(self, post_ids: Sequence[str]) -> list[pb.Post]:
        """The live posts of `post_ids` (canonical), in that order; the gone left out."""
        found = await self.load(post_ids)
        return [found[post_id] for post_id in post_ids if post_id in found]

    async def present(
        self,
        principal: Principal,
        posts: Sequence[pb.Post],
        fields: frozenset[str] | None,
        keep: Callable[[pb.Post, Link], bool] | None = None,
    ) -> list[pb.Post]:
        """What the caller may see of these posts (and `keep` keeps, told how the caller
        relates to each author), decorated; order kept. Social's two answers (relations,
        reaction counts) are awaited together, not one after the other."""
        links, reactions = await asyncio.gather(
            self._links(principal, posts), self._reactions(posts, fields)
        )
        unknown = Link(Relation.UNKNOWN, muted=False)
        shown = []
        for post in posts:
            link = links.get(post.author_id, unknown)
            visibility = VISIBILITY_NAMES[post.visibility]
            moderation = MODERATION_NAMES[post.moderation_state]
            seen = sees(principal, post.author_id, visibility, moderation, link.relation)
            if seen and (keep is None or keep(post, link)):
                shown.append(post)
        return _decorated(shown, reactions, fields)

    async def _links(self, principal: Principal, posts: Sequence[pb.Post]) -> dict[str, Link]:
        """How each author relates to the caller; nobody is asked for staff and services,
        who see everything."""
        if privileged(principal):
            return {}
        authors = {p.author_id for p in posts} - {principal.subject}
        return await self._deps.peers.links(principal.user_id, authors)

    async def decorate(
        self, posts: Sequence[pb.Post], fields: frozenset[str] | None
    ) -> list[pb.Post]:
        """Posts the caller may see, with their reactions (social's), masked."""
        return _decorated(posts, await self._reactions(posts, fields), fields)

    async def _reactions(
        self, posts: Sequence[pb.Post], fields: frozenset[str] | None
    ) -> dict[str, bytes] | None:
        """The posts' reaction counts (serialized), or None when the mask leaves them out."""
        if fields is None or "reactions" in fields:
            return await self._deps.peers.reactions(p.id for p in posts)
        return None

    async def _one(
        self, principal: Principal, post: pb.Post, fields: frozenset[str] | None
    ) -> pb.Post:
        shown = await self.present(principal, [post], fields)
        if not shown:
            raise NotFound("post", post.id)
        return shown[0]

    async def get(
        self, principal: Principal, post_id: str, fields: frozenset[str] | None
    ) -> pb.Post:
        found = await self.load([post_id])
        if post_id not in found:
            raise NotFound("post", post_id)
        return await self._one(principal, found[post_id], fields)

    async def batch_get(
        self, principal: Principal, ids: Sequence[str], fields: frozenset[str] | None
    ) -> tuple[list[pb.Post], list[str]]:
        wanted = canonical_ids("ids", ids, MAX_BATCH)
        shown = await self.present(principal, await self.ordered(wanted), fields)
        seen = {post.id for post in shown}
        return shown, [i for i in wanted if i not in seen]

    async def update(self, principal: Principal, changes: pb.Post, paths: list[str]) -> pb.Post:
        post_id = parse_id("post.id", changes.id)
        author = require_user(principal)
        if not paths:
            raise InvalidArgument("update_mask", "name at least one field to update")
        unknown = [p for p in paths if p not in UPDATABLE]
        if unknown:
            raise InvalidArgument("update_mask", f"{unknown[0]!r} cannot be updated")
        values: dict[str, object] = {}
        mentions: list[tuple[uuid.UUID, str]] = []
        if "visibility" in paths:
            values["visibility"] = _visibility("post.visibility", changes.visibility, default=None)
        if "text" in paths:
            values["text"] = validation.text("post.text", changes.text, validation.POST_TEXT_MAX)
            values["hashtags"] = parsing.hashtags(changes.text)
            mentions = await self._mentions(changes.text)
            values["mentions"] = [{"user_id": str(u), "username": n} for u, n in mentions]
        expected = version_from_etag("post.etag", changes.etag)
        moment = now()
        async with self._deps.db.transaction() as conn:
            row = await repository.lock_post(conn, post_id)
            if row is None or not _may_act(principal, row, author_only=True):
                raise NotFound("post", str(post_id))
            if row.author_id != author:
                raise PermissionDenied("only its author may edit a post", reason="NOT_POST_AUTHOR")
            if expected is not None and row.version != expected:
                raise Aborted(
                    "the post changed since it was read; read it again", reason="ETAG_MISMATCH"
                )
            await repository.update_post(conn, post_id, values, moment)
            if "text" in values:
                tags = values["hashtags"]
                assert isinstance(tags, list)
                await repository.replace_tags(
                    conn, post_id, tags, moment, created_at=row.created_at
                )
                await repository.replace_mentions(conn, post_id, [u for u, _ in mentions])
            rows = await repository.batch_get_posts(conn, [post_id])
        await self._deps.forget_posts(post_id)
        return await self._one(principal, convert.post(rows[0]), None)

    async def delete(self, principal: Principal, post_id: uuid.UUID) -> None:
        """Soft delete by the author or staff; the media's bytes go back to the author."""
        async with self._deps.db.transaction() as conn:
            row = await repository.lock_post(conn, post_id)
            if row is None or not _may_act(principal, row, author_only=False):
                raise NotFound("post", str(post_id))
            if not (is_self(principal, row.author_id) or privileged(principal)):
                raise PermissionDenied(
                    "only its author or a moderator may delete a post", reason="NOT_POST_AUTHOR"
                )
            moment = now()
            await repository.delete_post(conn, post_id, moment)
            owed = await repository_media.start_post_release(conn, post_id, moment)
            await events.post_removed(
                conn, post_id, row.author_id, principal.subject, events_pb2.POST_REMOVAL_DELETED
            )
        await self._deps.forget_posts(post_id)
        await self._media.settle(owed)


def _may_act(principal: Principal, row: repository.Record, *, author_only: bool) -> bool:
    """Whether the caller can see the post at all (if not, it does not exist for them)."""
    if author_only and row.moderation_state != "visible":
        return False  # moderated posts are the moderators' now, their author's too
    return sees(principal, row.author_id, row.visibility, row.moderation_state, Relation.UNKNOWN)


def _visibility(field: str, value: int, *, default: str | None) -> str:
    if value == pb.VISIBILITY_UNSPECIFIED and default is not None:
        return default
    name = VISIBILITY_NAMES.get(value)  # type: ignore[call-overload]
    if name is None:
        raise InvalidArgument(field, "must be PUBLIC, FOLLOWERS or PRIVATE")
    return name


def _decorated(
    posts: Sequence[pb.Post],
    reactions: Mapping[str, bytes] | None,
    fields: frozenset[str] | None,
) -> list[pb.Post]:
    """The posts with their reaction counts (when asked for), masked."""
    if reactions is not None:
        for post in posts:
            post.reactions.ParseFromString(reactions[post.id])
    return [convert.masked(post, fields) for post in posts]
