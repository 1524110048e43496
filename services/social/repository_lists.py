"""SQL of the social service's newest-first lists: a user's followers, following,
friends, requests, blocks and mutes, each a `Pages` built once (`shared.keyset`);
repository_notifications and repository_reactions define theirs the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Select, Table, Text, cast, select
from sqlalchemy.dialects.postgresql import UUID

from services.social.repository import MUTE_IN_EFFECT, id_param
from services.social.tables import blocks, follows, friendships, mutes
from shared import keyset

# The user whose list is read, in the lists' conditions.
OWNER = id_param("owner")


@dataclass(frozen=True)
class Pages:
    """A newest-first list's statements, for a first page and for a next one, built once
    (`shared.keyset`)."""

    first: Select[Any]
    next: Select[Any]

    def page(self, bound: dict[str, Any], after: keyset.After, limit: int) -> keyset.Query:
        """The page after `after` (the first page if None) of at most `limit` rows, the
        conditions' parameters bound by `bound`."""
        statement = self.first if after is None else self.next
        return statement, keyset.values(after, limit, bound)


def pages(
    table: Table,
    conditions: Sequence[Any],
    other: Column[Any],
    columns: Sequence[Any] = (),
) -> Pages:
    """Rows of `table` (or only `columns` of them) meeting `conditions` (their values as
    bind parameters), newest first by (created_at, `other`)."""
    statement = select(*(columns or (table,))).where(*conditions)
    order = (table.c.created_at.desc(), other.desc())
    types = (table.c.created_at.type, UUID(as_uuid=True))
    position = keyset.past((table.c.created_at, other), types, newest=True)
    return Pages(
        statement.order_by(*order).limit(keyset.LIMIT),
        statement.where(position).order_by(*order).limit(keyset.LIMIT),
    )


_ACTIVE_FOLLOWS_OF_OWNER = (follows.c.followee_id == OWNER, follows.c.state == "active")

# On follows_by_followee.
FOLLOWERS = pages(follows, _ACTIVE_FOLLOWS_OF_OWNER, follows.c.follower_id)


def id_pages(conditions: Sequence[Any], other: Column[Any]) -> Pages:
    """Follows meeting `conditions`, only the ids of `other` (as text) and their times:
    read from the index alone, thousands a page, with no UUID made and printed back per
    row."""
    columns = (cast(other, Text).label(other.name), follows.c.created_at)
    return pages(follows, conditions, other, columns)


# Index only, on follows_by_followee, for the fan-out.
FOLLOWER_IDS = id_pages(_ACTIVE_FOLLOWS_OF_OWNER, follows.c.follower_id)


# On follows_by_followee.
REQUESTS = pages(
    follows, (follows.c.followee_id == OWNER, follows.c.state == "pending"), follows.c.follower_id
)


_ACTIVE_FOLLOWS_BY_OWNER = (follows.c.follower_id == OWNER, follows.c.state == "active")

# On follows_by_follower.
FOLLOWING = pages(follows, _ACTIVE_FOLLOWS_BY_OWNER, follows.c.followee_id)


# Index only, on follows_by_follower, for a home feed's rebuild.
FOLLOWING_IDS = id_pages(_ACTIVE_FOLLOWS_BY_OWNER, follows.c.followee_id)


# On friendships_by_user.
FRIENDS = pages(friendships, (friendships.c.user_id == OWNER,), friendships.c.friend_id)


# On blocks_by_blocker.
BLOCKS = pages(blocks, (blocks.c.blocker_id == OWNER,), blocks.c.blocked_id)


# On mutes_by_muter; expired mutes are skipped, not deleted.
MUTES = pages(mutes, (mutes.c.muter_id == OWNER, MUTE_IN_EFFECT), mutes.c.muted_id)
