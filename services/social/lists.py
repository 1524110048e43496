"""Reads of the graph: a user's lists (newest first, keyset pages), relationships, stats.

The follower, following and friend lists of a locked account are shown only to the
account, its followers, staff and services; everyone else is PERMISSION_DENIED.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from daira.social.v1 import social_pb2 as pb
from services.social import convert, paging, repository, repository_lists
from services.social.deps import Deps, privileged, require_user
from services.social.repository import Record
from shared.auth import Principal, require_owner
from shared.errors import PermissionDenied
from shared.ids import canonical_ids

MAX_BATCH = 100
# ListFollowerIds and ListFollowingIds: a page holds most users' lists whole.
IDS_DEFAULT_PAGE = 1000
IDS_MAX_PAGE = 10_000


@dataclass(frozen=True)
class Listing:
    name: str
    pages: repository_lists.Pages
    # The column naming the listed user (the second half of the page key).
    other: str


FOLLOWERS = Listing("followers", repository_lists.FOLLOWERS, "follower_id")
FOLLOWING = Listing("following", repository_lists.FOLLOWING, "followee_id")
FRIENDS = Listing("friends", repository_lists.FRIENDS, "friend_id")
REQUESTS = Listing("requests", repository_lists.REQUESTS, "follower_id")
BLOCKS = Listing("blocks", repository_lists.BLOCKS, "blocked_id")
MUTES = Listing("mutes", repository_lists.MUTES, "muted_id")
# The ids alone, for services acting on each.
FOLLOWER_IDS = Listing("follower_ids", repository_lists.FOLLOWER_IDS, "follower_id")
FOLLOWING_IDS = Listing("following_ids", repository_lists.FOLLOWING_IDS, "followee_id")


class Lists:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def connections(
        self, principal: Principal, listing: Listing, user_id: uuid.UUID, size: int, token: str
    ) -> tuple[list[pb.Connection], str]:
        """A user's followers, following or friends, as the caller may see them."""
        await self._require_visible(principal, user_id)
        rows, next_token = await self._page(listing, user_id, size, token)
        return [convert.connection(getattr(row, listing.other), row) for row in rows], next_token

    async def ids(
        self, listing: Listing, user_id: uuid.UUID, size: int, token: str
    ) -> tuple[list[str], str]:
        """A user's followers' or followees' ids, newest first, for services acting on each."""
        rows, next_token = await paging.newest_first(
            self._deps.db,
            listing.pages,
            {"owner": user_id},
            listing.other,
            {listing.name: str(user_id)},
            size,
            token,
            default=IDS_DEFAULT_PAGE,
            maximum=IDS_MAX_PAGE,
        )
        return [other for other, _ in rows], next_token

    async def own(
        self, principal: Principal, listing: Listing, size: int, token: str
    ) -> tuple[list[pb.Connection], str]:
        """The caller's follow requests or blocks."""
        rows, next_token = await self._page(listing, require_user(principal), size, token)
        return [convert.connection(getattr(row, listing.other), row) for row in rows], next_token

    async def mutes(self, principal: Principal, size: int, token: str) -> tuple[list[pb.Mute], str]:
        rows, next_token = await self._page(MUTES, require_user(principal), size, token)
        return [convert.mute(row) for row in rows], next_token

    async def _page(
        self, listing: Listing, owner: uuid.UUID, size: int, token: str
    ) -> tuple[list[Record], str]:
        return await paging.newest_first(
            self._deps.db,
            listing.pages,
            {"owner": owner},
            listing.other,
            {listing.name: str(owner)},
            size,
            token,
        )

    async def _require_visible(self, principal: Principal, user_id: uuid.UUID) -> None:
        if privileged(principal) or principal.subject == str(user_id):
            return
        async with self._deps.db.connection() as conn:
            if await repository.follow_state(conn, principal.user_id, user_id) == "active":
                return
        if (await self._deps.peers.account(user_id)).locked:
            raise PermissionDenied(
                "this account is locked: its lists are shown to its followers only",
                reason="ACCOUNT_LOCKED",
            )

    async def relationships(
        self, principal: Principal, viewer: uuid.UUID, user_ids: Sequence[str]
    ) -> pb.GetRelationshipsResponse:
        """The viewer's relationship to each user, written straight into the answer."""
        require_owner(principal, viewer, services_too=True)
        others = canonical_ids("user_ids", user_ids, MAX_BATCH)
        answer = pb.GetRelationshipsResponse()
        if not others:
            return answer
        async with self._deps.db.connection() as conn:
            params = {"viewer": viewer, "user_ids": others}
            rows = await repository.rows(conn, repository.RELATIONSHIPS, params)
        for row in rows:  # one per user, in their order
            convert.fill_relationship(answer.relationships.add(), row)
        return answer

    async def stats(self, user_ids: Sequence[str]) -> list[pb.UserStats]:
        users = canonical_ids("user_ids", user_ids, MAX_BATCH)
        if not users:
            return []
        async with self._deps.db.connection() as conn:
            rows = await repository.rows(conn, repository.USER_STATS, {"user_ids": users})
        found = {row.user_id: row for row in rows}
        return [convert.user_stats(user, found.get(user)) for user in users]
