"""SQL of reactions and their striped counts.

A reaction and the count it changes are written in one transaction. The reaction is
one upsert that returns the kind it replaced (PostgreSQL 18's RETURNING old), so a
user's racing reactions to one target serialise on their row and each sees the kind
before it; counts then move by exactly that change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.repository import (
    Record,
    Target,
    block_between,
    id_param,
)
from services.social.repository_lists import pages
from services.social.tables import reaction_counts, reactions
from shared.sqlarrays import text_array, uuid_array

# Built once (as every statement of a hot path), the values sent as parameters. The
# reaction is not made when the user and the target's author block one another.
_USER = id_param("user_id")
_NOW = bindparam("now", type_=reactions.c.created_at.type)
_NEW_REACTION = insert(reactions).from_select(
    ["target_kind", "target_id", "user_id", "kind", "created_at", "updated_at"],
    select(
        bindparam("target_kind", type_=reactions.c.target_kind.type),
        id_param("target_id"),
        _USER,
        bindparam("kind", type_=reactions.c.kind.type),
        _NOW,
        _NOW,
    ).where(~block_between(_USER, id_param("author_id"))),
)
UPSERT_REACTION = _NEW_REACTION.on_conflict_do_update(
    index_elements=[reactions.c.target_id, reactions.c.target_kind, reactions.c.user_id],
    set_={
        "kind": _NEW_REACTION.excluded.kind,
        "updated_at": case(
            (reactions.c.kind != _NEW_REACTION.excluded.kind, _NEW_REACTION.excluded.updated_at),
            else_=reactions.c.updated_at,
        ),
    },
).returning(*reactions.c, literal_column("old.kind").label("previous"))
DELETE_REACTION = (
    delete(reactions)
    .where(
        reactions.c.target_id == id_param("target_id"),
        reactions.c.target_kind == bindparam("target_kind", type_=reactions.c.target_kind.type),
        reactions.c.user_id == id_param("user_id"),
    )
    .returning(reactions.c.kind)
)


async def upsert_reaction(
    conn: AsyncConnection,
    target: Target,
    user_id: uuid.UUID,
    author_id: uuid.UUID,
    kind: str,
    now: datetime,
) -> Record | None:
    """The user's reaction to the target (written by `author_id`), now `kind`; `previous`
    is the kind it replaced. None, and nothing written, if either blocks the other."""
    params = {
        "target_kind": target[0],
        "target_id": target[1],
        "user_id": user_id,
        "author_id": author_id,
        "kind": kind,
        "now": now,
    }
    return (await conn.execute(UPSERT_REACTION, params)).one_or_none()


async def delete_reaction(conn: AsyncConnection, target: Target, user_id: uuid.UUID) -> str | None:
    """The kind of the reaction removed; None if there was none."""
    params = {"target_kind": target[0], "target_id": target[1], "user_id": user_id}
    return (await conn.execute(DELETE_REACTION, params)).scalar_one_or_none()


async def delete_reactions_of(
    conn: AsyncConnection, user_id: uuid.UUID, limit: int
) -> list[Record]:
    """Remove up to `limit` of the user's reactions, found on reactions_by_user; the target
    and kind of each removed."""
    theirs = (
        select(reactions.c.target_id, reactions.c.target_kind)
        .where(reactions.c.user_id == user_id)
        .limit(limit)
    )
    statement = (
        delete(reactions)
        .where(
            reactions.c.user_id == user_id,
            tuple_(reactions.c.target_id, reactions.c.target_kind).in_(theirs),
        )
        .returning(reactions.c.target_kind, reactions.c.target_id, reactions.c.kind)
    )
    return list((await conn.execute(statement)).all())


# The kinds of reaction, in the order REACTION_COUNTS gives their counts.
KINDS = ("like", "love", "laugh", "sad", "angry")
# One row per (kind, id) of the arrays, in their order: each kind's count summed over the
# slots, found on the primary key; zeros for a target nobody reacted to. PostgreSQL does
# the pivot, so a batch of 100 costs 100 rows of 5 numbers, not a row per kind and slot.
_TARGETS = (
    func.unnest(
        text_array("target_kinds"),
        uuid_array("target_ids"),
    )
    .table_valued("kind", "id", with_ordinality="n")
    .render_derived(name="t")
)
REACTION_COUNTS = (
    select(
        *(
            cast(
                func.coalesce(
                    func.sum(reaction_counts.c.count).filter(reaction_counts.c.kind == k), 0
                ),
                BigInteger,
            )
            for k in KINDS
        )
    )
    .select_from(
        _TARGETS.outerjoin(
            reaction_counts,
            and_(
                reaction_counts.c.target_id == _TARGETS.c.id,
                reaction_counts.c.target_kind == _TARGETS.c.kind,
            ),
        )
    )
    .group_by(_TARGETS.c.n)
    .order_by(_TARGETS.c.n)
)


async def counts_of(
    conn: AsyncConnection, targets: Sequence[tuple[str, str]]
) -> Sequence[Sequence[int]]:
    """Each target's counts, in KINDS order, in the order of `targets` (kind, id as text)."""
    params = {
        "target_kinds": [kind for kind, _ in targets],
        "target_ids": [target_id for _, target_id in targets],
    }
    return (await conn.execute(REACTION_COUNTS, params)).all()


# Who reacted to a target, newest first, on reactions_by_target.
REACTIONS = pages(
    reactions,
    (
        reactions.c.target_id == id_param("target_id"),
        reactions.c.target_kind == bindparam("target_kind", type_=reactions.c.target_kind.type),
    ),
    reactions.c.user_id,
)
