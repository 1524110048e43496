"""Everything the content service asks or tells other services, each behind one method.

Users resolves mentions and keeps the storage quota. Social says who follows or blocks
whom and how posts were reacted to, one call per 100 users or posts; when it cannot
answer, relations are UNKNOWN and reaction counts unavailable, which the callers show
as documented degraded answers (public posts only, no counts), never as errors. (What
social learns from content, comments and mentions, travels as events: `events`.)

Social's answers, and users' about the authors of a feed's page, are remembered in Redis:
fresh for `fresh_seconds` (settings social_answers_seconds), after which a read still
gets the remembered answer at once and asks the peer again behind it, and kept for at
most `kept_seconds` (social_answers_kept_seconds), after which a reader waits for the
peer. So once an answer is remembered, neither a hot post's readers nor a feed's wait for
a peer: a new reaction, follow, block or display name shows once a read has found the
answer older than `fresh_seconds` and the peer has answered again behind it
(milliseconds), or `kept_seconds` after the answer at worst. Unknown answers (a peer
down) are never remembered.

Two kinds of answer change only by an event, which forgets them, and are kept longer
without being asked for again: a username's id (until its account is deleted), and a
post's reaction counts (until social tells of a reaction to it, `forget_reactions`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import grpc

from daira.content.v1 import content_pb2 as pb
from daira.social.v1 import social_pb2, social_pb2_grpc
from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.cache import Cache
from shared.clients import ServiceClient
from shared.errors import DomainError, Relayed, Unavailable
from shared.logs import get_logger
from shared.tiers import Tier
from shared.visibility import Relation

log = get_logger("daira.content.peers")

T = TypeVar("T")
K = TypeVar("K", uuid.UUID, str)

# The kinds of reaction social counts, as its answers name them ("LIKE").
REACTION_KINDS = [
    name.removeprefix("REACTION_KIND_")
    for name, number in social_pb2.ReactionKind.items()
    if number != social_pb2.REACTION_KIND_UNSPECIFIED
]
# The limit per call of social's batch RPCs (GetRelationships, GetReactionCounts,
# GetUserStats) and list pages, and of users' BatchGetUsers and LookupUsers.
BATCH = 100
# A page of social's ListFollowerIds and ListFollowingIds, their largest: most users'
# lists in one call.
IDS_PAGE = 10_000
# The counts of a post social could not be asked about, serialized as Peers.reactions
# answers.
UNAVAILABLE = pb.ReactionCounts(available=False).SerializeToString()
# How long the id of a mentioned username is remembered (forgotten sooner if its account
# is deleted).
USERNAMES_SECONDS = 3600
# How long a post's reaction counts are remembered: forgotten sooner as social tells of
# each reaction to it (social.reaction.changed), so this bounds only how long counts could
# lag were those events held up.
REACTIONS_SECONDS = 600
# Where social's answers are remembered: engagement figures, as the design's tiers go
# (each entry written with the short remember_seconds, not the tier's day).
ANSWERS_TIER = Tier.ANALYTICS


class Peers:
    def __init__(
        self,
        users: ServiceClient,
        social: ServiceClient,
        cache: Cache,
        fresh_seconds: int,
        kept_seconds: int,
    ) -> None:
        """Peers' answers are remembered fresh for `fresh_seconds` (0: not at all) and
        kept for `kept_seconds`."""
        self._users = users
        self._social = social
        self._cache = cache
        self._fresh_seconds = fresh_seconds
        self._kept_seconds = max(kept_seconds, fresh_seconds)
        self._user_stub = users.stub(users_pb2_grpc.UserServiceStub)
        self._social_stub = social.stub(social_pb2_grpc.SocialServiceStub)

    async def close(self) -> None:
        await self._users.close()
        await self._social.close()

    async def resolve_mentions(self, usernames: Sequence[str]) -> dict[str, uuid.UUID]:
        """Username → id of the names that belong to a user, remembered for
        USERNAMES_SECONDS: a username is an account's for its life, and the account's
        deletion forgets it (`forget_username`). Names users does not know are asked about
        every time (one may be taken any moment); those users cannot tell about are left
        out (degraded)."""

        async def ask(chunk: Sequence[str]) -> dict[str, bytes]:
            request = users_pb2.LookupUsersRequest(usernames=list(chunk))
            reply = await self._users.call(self._user_stub.LookupUsers, request, idempotent=True)
            return {user.username: user.id.encode() for user in reply.users}

        keys = {name: _username_key(name) for name in usernames}
        answers = await self._answers(keys, ask, "mentions", "users", USERNAMES_SECONDS)
        return {name: uuid.UUID(a.decode()) for name, a in answers.items() if a is not None}

    async def forget_username(self, username: str) -> None:
        """A deleted account's username, free to be taken by another: asked about again."""
        await self._cache.delete(ANSWERS_TIER, _username_key(username))

    async def reserve_storage(self, user_id: uuid.UUID, size: int, key: str) -> None:
        """Count `size` bytes against the user's quota under `key` (idempotent).

        Raises the users service's refusal (FAILED_PRECONDITION when over quota) as
        Relayed, and Unavailable or DeadlineExceeded when the outcome is unknown.
        """
        request = users_pb2.ReserveStorageRequest(user_id=str(user_id), bytes=size, request_id=key)
        await self._users.call(self._user_stub.ReserveStorage, request, idempotent=True)

    async def release_storage(self, user_id: uuid.UUID, key: str) -> None:
        """Give back the bytes reserved under `key`; a reservation that never was is fine.

        Raises Unavailable or DeadlineExceeded when users could not be told.
        """
        request = users_pb2.ReleaseStorageRequest(user_id=str(user_id), reservation_request_id=key)
        try:
            await self._users.call(self._user_stub.ReleaseStorage, request, idempotent=True)
        except Relayed as exc:
            if exc.code is not grpc.StatusCode.NOT_FOUND:
                raise Unavailable(f"users refused a release: {exc.message}") from exc

    async def relations(self, viewer: uuid.UUID, authors: Iterable[str]) -> dict[str, Relation]:
        """How each author (a canonical id) relates to the viewer; UNKNOWN where social
        cannot answer."""
        links = await self.links(viewer, authors)
        return {author: link.relation for author, link in links.items()}

    async def links(self, viewer: uuid.UUID, authors: Iterable[str]) -> dict[str, Link]:
        """Each author's (a canonical id's) relation to the viewer, and whether the viewer
        mutes them. Ids stay strings, as posts carry them and social answers them."""

        async def ask(chunk: Sequence[str]) -> dict[str, bytes]:
            request = social_pb2.GetRelationshipsRequest(viewer_id=me, user_ids=chunk)
            reply = await self._social.call(
                self._social_stub.GetRelationships, request, idempotent=True
            )
            return {
                r.user_id: f"{_relation(r).value}|{int(r.muting)}".encode()
                for r in reply.relationships
            }

        me = str(viewer)
        answers = await self._answers(
            {author: f"relation:{me}:{author}" for author in authors},
            ask,
            "relations",
            "social",
        )
        return {author: _link(answer) for author, answer in answers.items()}

    async def following(self, user: uuid.UUID) -> list[uuid.UUID]:
        """Everyone `user` follows, newest first. Raises Unavailable if social cannot say."""
        request = social_pb2.ListFollowingIdsRequest(user_id=str(user), page_size=IDS_PAGE)
        pages = self._id_pages(self._social_stub.ListFollowingIds, request, "followee_ids")
        return [uuid.UUID(followee) async for page in pages for followee in page]

    def followers(self, user: uuid.UUID | str) -> AsyncIterator[list[str]]:
        """`user`'s followers' ids, a page at a time. Raises Unavailable if social cannot
        say."""
        request = social_pb2.ListFollowerIdsRequest(user_id=str(user), page_size=IDS_PAGE)
        return self._id_pages(self._social_stub.ListFollowerIds, request, "follower_ids")

    async def _id_pages(self, rpc: Any, request: Any, field: str) -> AsyncIterator[list[str]]:
        """The ids of one of social's internal id lists, a page (up to IDS_PAGE) at a time."""
        while True:
            reply = await self._social.call(rpc, request, idempotent=True)
            yield list(getattr(reply, field))
            if not reply.next_page_token:
                return
            request.page_token = reply.next_page_token

    async def follower_count(self, user: str) -> int:
        """How many follow the user (a canonical id), remembered like social's other
        answers: every post's fan-out asks for its author's, and an author who crosses
        into celebrity is seen as one `fresh_seconds` late at worst. Raises Unavailable
        if social cannot say."""

        async def ask(chunk: Sequence[str]) -> dict[str, bytes]:
            request = social_pb2.GetUserStatsRequest(user_ids=list(chunk))
            reply = await self._social.call(
                self._social_stub.GetUserStats, request, idempotent=True
            )
            return {s.user_id: str(s.followers_count).encode() for s in reply.stats}

        answers = await self._answers({user: f"followers:{user}"}, ask, "follower counts", "social")
        answer = answers[user]
        if answer is None:
            raise Unavailable(f"social could not say how many follow {user}")
        return int(answer)

    async def authors(self, user_ids: Sequence[str]) -> list[pb.Author]:
        """Who these users are (remembered like social's answers, else one call per 100);
        those users cannot tell about are left out (degraded)."""

        async def ask(chunk: Sequence[str]) -> dict[str, bytes]:
            request = users_pb2.BatchGetUsersRequest(ids=list(chunk))
            reply = await self._users.call(self._user_stub.BatchGetUsers, request, idempotent=True)
            return {
                u.id: pb.Author(
                    user_id=u.id, username=u.username, display_name=u.display_name
                ).SerializeToString()
                for u in reply.users
            }

        answers = await self._answers(
            {user_id: f"author:{user_id}" for user_id in user_ids}, ask, "authors", "users"
        )
        return [pb.Author.FromString(a) for a in answers.values() if a is not None]

    async def reactions(self, post_ids: Iterable[str]) -> dict[str, bytes]:
        """Reaction counts per post (canonical ids), as serialized ReactionCounts to parse
        into each post (no message made per post in between); UNAVAILABLE where social
        cannot answer. Remembered for REACTIONS_SECONDS, not asked for again meanwhile:
        a reaction's event forgets them."""

        async def ask(chunk: Sequence[str]) -> dict[str, bytes]:
            targets = [social_pb2.Target(kind=social_pb2.TARGET_KIND_POST, id=p) for p in chunk]
            reply = await self._social.call(
                self._social_stub.GetReactionCounts,
                social_pb2.GetReactionCountsRequest(targets=targets),
                idempotent=True,
            )
            return {c.target.id: _counts_answer(c.counts) for c in reply.counts}

        answers = await self._answers(
            {post_id: _reactions_key(post_id) for post_id in post_ids},
            ask,
            "reaction counts",
            "social",
            REACTIONS_SECONDS,
        )
        return {post_id: UNAVAILABLE if a is None else a for post_id, a in answers.items()}

    async def remember_no_reactions(self, post_id: str) -> None:
        """Remember, as if social had answered, that a post just created has no reactions
        (nobody could have reacted yet): its creation and first reads need not ask."""
        if self._fresh_seconds > 0:
            await self._cache.set_many(
                ANSWERS_TIER,
                {_reactions_key(post_id): _counts_answer(dict.fromkeys(REACTION_KINDS, 0))},
                ttl_seconds=REACTIONS_SECONDS,
                near_seconds=self._fresh_seconds,
            )

    async def forget_reactions(self, *post_ids: str) -> None:
        """Someone reacted to the posts (or changed or withdrew a reaction): their counts
        are asked for again."""
        await self._cache.delete(ANSWERS_TIER, *(_reactions_key(p) for p in post_ids))

    async def _answers(
        self,
        keys: Mapping[K, str],
        ask: Callable[[Sequence[K]], Awaitable[dict[K, bytes]]],
        what: str,
        peer: str,
        lifetime: int | None = None,
    ) -> dict[K, bytes | None]:
        """The peer's answer for each of `keys`, remembered or asked for (one call per
        BATCH; an answer another read is already asking for is awaited, not asked again);
        None for all it was asked and could not answer. An answer older than
        `fresh_seconds` is answered as it is and asked for again in the background; one
        given a `lifetime` (that only an event changes, which forgets it) is kept that long
        and not asked for again meanwhile."""
        items = {key: item for item, key in keys.items()}

        async def load(missing: list[str]) -> dict[str, bytes]:
            fresh: dict[str, bytes] = {}
            for chunk in _batches([items[key] for key in missing]):
                fresh.update((keys[item], answer) for item, answer in (await ask(chunk)).items())
            return fresh

        fresh, kept = self._fresh_seconds, self._kept_seconds
        # Kept `kept` and renewed once past fresh, or kept its lifetime and never renewed.
        ttl, renew = (kept, kept - fresh) if lifetime is None else (lifetime, 0)
        try:
            if fresh > 0:
                answers = await self._cache.get_many_or_load(
                    ANSWERS_TIER,
                    keys.values(),
                    load,
                    ttl_seconds=ttl,
                    near_seconds=fresh,
                    renew_seconds=renew,
                )
            else:
                answers = await load(list(keys.values()))
        except DomainError as exc:
            log.warning(f"{what} unknown: {peer} did not answer", error=exc.message)
            answers = {}
            if fresh > 0:
                answers = await self._cache.get_many(
                    ANSWERS_TIER, keys.values(), near_seconds=fresh
                )
        return {item: answers.get(key) for item, key in keys.items()}


# Relations by their value, as remembered answers name them.
RELATIONS = {relation.value: relation for relation in Relation}


class Link(NamedTuple):
    relation: Relation
    muted: bool  # the viewer mutes the author


def _reactions_key(post_id: str) -> str:
    return f"reactions:{post_id}"


def _counts_answer(counts: Mapping[str, int]) -> bytes:
    """Social's reaction counts of one post, as they are remembered."""
    return pb.ReactionCounts(counts=counts, available=True).SerializeToString()


@functools.lru_cache(maxsize=64)
def _link(answer: bytes | None) -> Link:
    """A remembered relation's answer read (a handful of distinct answers, each read once)."""
    if answer is None:
        return Link(Relation.UNKNOWN, muted=False)
    relation, _, muted = answer.decode().partition("|")
    return Link(RELATIONS[relation], muted=muted == "1")


def _relation(relationship: social_pb2.Relationship) -> Relation:
    if relationship.blocked_by:
        return Relation.BLOCKED
    if relationship.following:
        return Relation.FOLLOWER
    return Relation.NONE


def _batches(items: Sequence[T]) -> list[Sequence[T]]:
    """`items` in runs of at most BATCH, the peers' limit per call."""
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def _username_key(username: str) -> str:
    return f"username:{username}"
