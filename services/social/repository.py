"""Every SQL statement of the social graph: follows, friendships, blocks, mutes, counters.

Fixed-shape statements on hot paths are built once (UPPER_CASE, bound per call), the
others by `*_statement` builders; both are module-level so the query-plan tests EXPLAIN
exactly what the service runs. repository_lists (a user's lists), repository_reactions
and repository_notifications hold the rest.

Changes between two users run under a transaction-scoped advisory lock on the pair
(`lock_pair`), taken by every writer of that pair: two follows at the same instant, or a
block racing a follow, run one after the other, and the second sees what the first
wrote. Locking the pair rather than each user keeps a hot user's follows parallel.

Counters are striped: a change adds to one slot row of its subject, chosen by the
caller, and a read sums the slots. `add_to_counters` writes all of a transaction's
slot rows in one upsert, in key order, so concurrent writers lock them in the same
order and cannot deadlock. It is a transaction's last statement: a slot row stays locked
until the commit, and every other change of a hot user or post that picks that slot
waits on it, so no other statement's round trip may lengthen that wait.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Select,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import UUID, Insert, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.tables import blocks, follows, friendships, mutes, user_counts
from shared.records import Record as Record
from shared.records import records
from shared.sqlarrays import uuid_array
from shared.visibility import Relation

# A post, comment or video of the content service: (kind, id).
Target = tuple[str, uuid.UUID]

MUTE_IN_EFFECT = or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > func.now())


def id_param(name: str) -> Any:
    return bindparam(name, type_=UUID(as_uuid=True))


async def rows(
    conn: AsyncConnection,
    statement: Select[*tuple[Any, ...]],
    params: dict[str, Any] | None = None,
) -> list[Record]:
    """Every row of a statement; `params` fills a prebuilt statement's bind parameters."""
    return records(await conn.execute(statement, params))


async def add_to_counters(
    conn: AsyncConnection, table: Table, changes: Sequence[dict[str, Any]]
) -> None:
    """Add each change (its key columns, slot included, and deltas) to its slot row."""
    if not changes:
        return
    keys, counts = _counter_columns(table)
    ordered = sorted(changes, key=lambda change: tuple(change[k] for k in keys))
    rows = [
        {c: change.get(c, 0) for c in counts} | {k: change[k] for k in keys} for change in ordered
    ]
    await conn.execute(_adding_to(table), rows)


def _counter_columns(table: Table) -> tuple[list[str], list[str]]:
    """A counter table's key columns (slot included) and its count columns."""
    keys = [column.name for column in table.primary_key.columns]
    return keys, [column.name for column in table.columns if column.name not in keys]


@functools.cache
def _adding_to(table: Table) -> Insert:
    """The upsert adding to a counter table's slot rows, built once per table and sent
    with the rows as parameters: a multi-row VALUES with the rows in it cannot be cached,
    so it was compiled again on every follow and reaction."""
    keys, counts = _counter_columns(table)
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={c: table.c[c] + statement.excluded[c] for c in counts}
    )


# --- pairs ---------------------------------------------------------------------------


def pair_key(a: uuid.UUID, b: uuid.UUID) -> int:
    """One 64-bit advisory lock key per unordered pair of users."""
    low, high = sorted((a, b))
    digest = hashlib.blake2b(low.bytes + high.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


LOCK_PAIR = text("SELECT pg_advisory_xact_lock(:key)")


async def lock_pair(conn: AsyncConnection, a: uuid.UUID, b: uuid.UUID) -> None:
    """Hold the pair's lock until the transaction ends."""
    await conn.execute(LOCK_PAIR, {"key": pair_key(a, b)})


LOCK_PAIRS = text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key")


async def lock_pairs(conn: AsyncConnection, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Hold the locks of all these pairs until the transaction ends, taken in key order in
    one round trip, so two transactions that each lock several pairs cannot deadlock."""
    await conn.execute(LOCK_PAIRS, {"keys": sorted({pair_key(a, b) for a, b in pairs})})


def block_between(a: Any, b: Any) -> Any:
    """Whether either of the two blocks the other."""
    return exists().where(
        or_(
            and_(blocks.c.blocker_id == a, blocks.c.blocked_id == b),
            and_(blocks.c.blocker_id == b, blocks.c.blocked_id == a),
        )
    )


# --- follows -------------------------------------------------------------------------


def _state_of(follower: Any, followee: Any) -> Any:
    """The follow's state (active or pending), if there is one."""
    return select(follows.c.state).where(
        follows.c.follower_id == follower, follows.c.followee_id == followee
    )


_FOLLOWER, _FOLLOWEE = id_param("follower"), id_param("followee")
FOLLOW_STATE = _state_of(_FOLLOWER, _FOLLOWEE)


async def follow_state(
    conn: AsyncConnection, follower: uuid.UUID, followee: uuid.UUID
) -> str | None:
    return await conn.scalar(FOLLOW_STATE, {"follower": follower, "followee": followee})


# What an author is to a viewer, for the rule of who sees their posts.
RELATION = select(
    exists()
    .where(blocks.c.blocker_id == _FOLLOWEE, blocks.c.blocked_id == _FOLLOWER)
    .label("blocked_by"),
    FOLLOW_STATE.scalar_subquery().label("following"),
)


async def relation(conn: AsyncConnection, viewer: uuid.UUID, author: uuid.UUID) -> Relation:
    row = (await conn.execute(RELATION, {"follower": viewer, "followee": author})).one()
    if row.blocked_by:
        return Relation.BLOCKED
    return Relation.FOLLOWER if row.following == "active" else Relation.NONE


# Write statements of the hot paths are built once and sent their values as parameters:
# building one per call cost more CPU than executing it.
_BLOCKED = block_between(_FOLLOWER, _FOLLOWEE)
_INSERTED = (
    insert(follows)
    .from_select(
        ["follower_id", "followee_id", "state", "created_at"],
        select(
            _FOLLOWER,
            _FOLLOWEE,
            bindparam("state", type_=follows.c.state.type),
            bindparam("now", type_=follows.c.created_at.type),
        ).where(~_BLOCKED),
    )
    .on_conflict_do_nothing()
    .returning(follows.c.state)
    .cte("inserted")
)
# A follow in one statement, under the pair's lock: inserted unless a block stands between
# the two or it exists already; the pair's rows are as they were before it (one snapshot),
# so a repeat answers the state it found and a new follow knows whether it is mutual.
INSERT_FOLLOW = select(
    _BLOCKED.label("blocked"),
    select(_INSERTED.c.state).scalar_subquery().label("inserted"),
    FOLLOW_STATE.scalar_subquery().label("existing"),
    _state_of(_FOLLOWEE, _FOLLOWER).scalar_subquery().label("reverse"),
)


async def insert_follow(
    conn: AsyncConnection, follower: uuid.UUID, followee: uuid.UUID, state: str, now: datetime
) -> Record:
    """The follow of `followee` by `follower`, inserted in `state` unless either blocks the
    other (`blocked`) or there is one already (`existing`, its state); `inserted` is the
    state inserted, `reverse` the state of the follow the other way."""
    params = {"follower": follower, "followee": followee, "state": state, "now": now}
    return (await conn.execute(INSERT_FOLLOW, params)).one()


async def approve_follow(
    conn: AsyncConnection, follower: uuid.UUID, followee: uuid.UUID, now: datetime
) -> bool:
    """A pending request becomes an active follow, dated now; False if there is none."""
    statement = (
        update(follows)
        .where(
            follows.c.follower_id == follower,
            follows.c.followee_id == followee,
            follows.c.state == "pending",
        )
        .values(state="active", created_at=now)
        .returning(follows.c.state)
    )
    return (await conn.execute(statement)).one_or_none() is not None


async def delete_follows(
    conn: AsyncConnection, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], *, state: str | None = None
) -> list[Record]:
    """Remove these (follower, followee) rows, of `state` only if given; the removed rows."""
    statement = delete(follows).where(
        tuple_(follows.c.follower_id, follows.c.followee_id).in_(list(pairs))
    )
    if state is not None:
        statement = statement.where(follows.c.state == state)
    returning = statement.returning(follows.c.follower_id, follows.c.followee_id, follows.c.state)
    return list((await conn.execute(returning)).all())


_INSERT_FRIENDSHIP = insert(friendships)


async def insert_friendship(
    conn: AsyncConnection, a: uuid.UUID, b: uuid.UUID, now: datetime
) -> None:
    """Both directions, sent as the parameters of one prebuilt INSERT."""
    rows = [
        {"user_id": a, "friend_id": b, "created_at": now},
        {"user_id": b, "friend_id": a, "created_at": now},
    ]
    await conn.execute(_INSERT_FRIENDSHIP, rows)


async def delete_friendship(conn: AsyncConnection, a: uuid.UUID, b: uuid.UUID) -> bool:
    """Remove both directions; False if they were not friends."""
    statement = (
        delete(friendships)
        .where(tuple_(friendships.c.user_id, friendships.c.friend_id).in_([(a, b), (b, a)]))
        .returning(friendships.c.user_id)
    )
    return bool((await conn.execute(statement)).all())


def follows_of_statement(user_id: uuid.UUID, limit: int) -> Any:
    """Up to `limit` follows (or requests) by the user and up to `limit` of the user, as
    (follower_id, followee_id), on the primary key and follows_by_followee."""
    pair = (follows.c.follower_id, follows.c.followee_id)
    return union_all(
        select(*pair).where(follows.c.follower_id == user_id).limit(limit),
        select(*pair).where(follows.c.followee_id == user_id).limit(limit),
    )


async def follows_of(
    conn: AsyncConnection, user_id: uuid.UUID, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = (await conn.execute(follows_of_statement(user_id, limit))).all()
    return [(row.follower_id, row.followee_id) for row in rows]


# --- blocks and mutes ----------------------------------------------------------------


async def insert_block(
    conn: AsyncConnection, blocker: uuid.UUID, blocked: uuid.UUID, now: datetime
) -> None:
    await conn.execute(
        insert(blocks)
        .values(blocker_id=blocker, blocked_id=blocked, created_at=now)
        .on_conflict_do_nothing()
    )


async def delete_block(conn: AsyncConnection, blocker: uuid.UUID, blocked: uuid.UUID) -> None:
    await conn.execute(
        delete(blocks).where(blocks.c.blocker_id == blocker, blocks.c.blocked_id == blocked)
    )


async def delete_blocks_and_mutes_of(conn: AsyncConnection, user_id: uuid.UUID) -> None:
    """Every block and mute by the user or of them (on the primary keys, blocks_by_blocked
    and mutes_by_muted)."""
    await conn.execute(
        delete(blocks).where(or_(blocks.c.blocker_id == user_id, blocks.c.blocked_id == user_id))
    )
    await conn.execute(
        delete(mutes).where(or_(mutes.c.muter_id == user_id, mutes.c.muted_id == user_id))
    )


async def upsert_mute(
    conn: AsyncConnection,
    muter: uuid.UUID,
    muted: uuid.UUID,
    notifications: bool,
    expires_at: datetime | None,
    now: datetime,
) -> Record:
    """The mute, replacing any earlier one (expired or not) of the same user."""
    values = {"notifications": notifications, "expires_at": expires_at, "created_at": now}
    statement = (
        insert(mutes)
        .values(muter_id=muter, muted_id=muted, **values)
        .on_conflict_do_update(index_elements=[mutes.c.muter_id, mutes.c.muted_id], set_=values)
        .returning(*mutes.c)
    )
    return (await conn.execute(statement)).one()


async def delete_mute(conn: AsyncConnection, muter: uuid.UUID, muted: uuid.UUID) -> None:
    await conn.execute(delete(mutes).where(mutes.c.muter_id == muter, mutes.c.muted_id == muted))


# --- relationships and counts --------------------------------------------------------


_VIEWER = id_param("viewer")
_OTHER = (
    func.unnest(uuid_array("user_ids"))
    .table_valued(Column("id", UUID(as_uuid=True)), with_ordinality="n")
    .render_derived(name="other")
)
# How a viewer relates to each of user_ids, in their order: one primary-key probe per table
# and user.
RELATIONSHIPS = select(
    cast(_OTHER.c.id, Text).label("id"),
    select(follows.c.state)
    .where(follows.c.follower_id == _VIEWER, follows.c.followee_id == _OTHER.c.id)
    .scalar_subquery()
    .label("outgoing"),
    select(follows.c.state)
    .where(follows.c.follower_id == _OTHER.c.id, follows.c.followee_id == _VIEWER)
    .scalar_subquery()
    .label("incoming"),
    exists()
    .where(blocks.c.blocker_id == _VIEWER, blocks.c.blocked_id == _OTHER.c.id)
    .label("blocking"),
    exists()
    .where(blocks.c.blocker_id == _OTHER.c.id, blocks.c.blocked_id == _VIEWER)
    .label("blocked_by"),
    exists()
    .where(mutes.c.muter_id == _VIEWER, mutes.c.muted_id == _OTHER.c.id, MUTE_IN_EFFECT)
    .label("muting"),
).order_by(_OTHER.c.n)

# The sums of each of user_ids' counter slots, on the user_counts primary key.
USER_STATS = (
    select(
        cast(user_counts.c.user_id, Text).label("user_id"),
        func.sum(user_counts.c.followers).label("followers"),
        func.sum(user_counts.c.following).label("following"),
        func.sum(user_counts.c.friends).label("friends"),
    )
    .where(user_counts.c.user_id == any_(uuid_array("user_ids")))
    .group_by(user_counts.c.user_id)
)
