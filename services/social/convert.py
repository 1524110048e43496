"""Rows to protobuf messages and request messages to domain values: enums, targets, times."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence

from daira.social.v1 import social_pb2 as pb
from services.social import repository_reactions
from services.social.repository import Record, Target
from shared.errors import InvalidArgument
from shared.ids import canonical_id
from shared.messages import timestamp

FOLLOW_STATES = {"active": pb.FOLLOW_STATE_ACTIVE, "pending": pb.FOLLOW_STATE_PENDING}
TARGET_KINDS = {
    "post": pb.TARGET_KIND_POST,
    "comment": pb.TARGET_KIND_COMMENT,
    "video": pb.TARGET_KIND_VIDEO,
}
TARGET_KIND_NAMES = {number: name for name, number in TARGET_KINDS.items()}
REACTION_KINDS = {
    kind: pb.ReactionKind.Value(f"REACTION_KIND_{kind.upper()}")
    for kind in repository_reactions.KINDS
}
REACTION_KIND_NAMES = {number: name for name, number in REACTION_KINDS.items()}
# The keys of ReactionCounts.counts, in the order of repository_reactions.KINDS.
COUNTED_NAMES = tuple(kind.upper() for kind in repository_reactions.KINDS)
NOTIFICATION_KINDS = {
    "follow": pb.NOTIFICATION_KIND_FOLLOW,
    "follow_request": pb.NOTIFICATION_KIND_FOLLOW_REQUEST,
    "follow_approved": pb.NOTIFICATION_KIND_FOLLOW_APPROVED,
    "reaction": pb.NOTIFICATION_KIND_REACTION,
    "comment": pb.NOTIFICATION_KIND_COMMENT,
    "reply": pb.NOTIFICATION_KIND_REPLY,
    "mention": pb.NOTIFICATION_KIND_MENTION,
}
NOTIFICATION_KIND_NAMES = {number: name for name, number in NOTIFICATION_KINDS.items()}


def target(field: str, message: pb.Target) -> Target:
    """A request's target; INVALID_ARGUMENT names `field`.kind or `field`.id."""
    kind, target_id = target_text(field, message)
    return kind, uuid.UUID(target_id)


def target_text(field: str, message: pb.Target) -> tuple[str, str]:
    """A request's target, its id in canonical text: what a batch read sends on and answers
    with, no UUID made and printed again per target."""
    kind = TARGET_KIND_NAMES.get(message.kind)
    if kind is None:
        raise InvalidArgument(f"{field}.kind", "must be POST, COMMENT or VIDEO")
    return kind, canonical_id(f"{field}.id", message.id)


def reaction_kind(field: str, value: int) -> str:
    kind = REACTION_KIND_NAMES.get(value)  # type: ignore[call-overload]
    if kind is None:
        raise InvalidArgument(field, "must be LIKE, LOVE, LAUGH, SAD or ANGRY")
    return kind


def target_message(kind: str, target_id: object) -> pb.Target:
    return pb.Target(kind=TARGET_KINDS[kind], id=str(target_id))


def connection(user_id: object, row: Record) -> pb.Connection:
    return pb.Connection(user_id=str(user_id), create_time=timestamp(row.created_at))


def mute(row: Record) -> pb.Mute:
    message = pb.Mute(
        user_id=str(row.muted_id),
        notifications=row.notifications,
        create_time=timestamp(row.created_at),
    )
    if row.expires_at is not None:
        message.expire_time.CopyFrom(timestamp(row.expires_at))
    return message


def reaction(row: Record) -> pb.Reaction:
    return pb.Reaction(
        target=target_message(row.target_kind, row.target_id),
        user_id=str(row.user_id),
        kind=REACTION_KINDS[row.kind],
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )


def fill_reaction_counts(
    message: pb.ReactionCounts, item: tuple[str, str], counts: Sequence[int]
) -> None:
    """Every kind's count, `counts` being in the order of repository_reactions.KINDS."""
    message.MergeFromString(_counted(tuple(counts)))
    message.target.kind = TARGET_KINDS[item[0]]
    message.target.id = item[1]


@functools.lru_cache(maxsize=4096)
def _counted(counts: tuple[int, ...]) -> bytes:
    """The counts and total of a ReactionCounts, serialized: made once per distinct set of
    counts (a batch's targets mostly share a few), as setting five map entries per target
    cost more than merging them."""
    return pb.ReactionCounts(
        counts=dict(zip(COUNTED_NAMES, counts, strict=True)), total=sum(counts)
    ).SerializeToString()


def notification(row: Record) -> pb.Notification:
    message = pb.Notification(
        id=str(row.id),
        kind=NOTIFICATION_KINDS[row.kind],
        actor_id=str(row.actor_id),
        post_id=str(row.post_id) if row.post_id is not None else "",
        read=row.read_at is not None,
        create_time=timestamp(row.created_at),
    )
    if row.target_kind is not None:
        message.target.CopyFrom(target_message(row.target_kind, row.target_id))
    return message


def fill_relationship(message: pb.Relationship, row: Record) -> None:
    """The viewer's relationship to `row.id`, set on a message of the answer itself (a
    message made apart would be copied into it). Only the flags that hold are set: most
    users of a batch are strangers, and setting a field costs as much as a false one's
    test (a batch of 100 in a third of the time)."""
    following = row.outgoing == "active"
    followed_by = row.incoming == "active"
    message.user_id = row.id
    if following:
        message.following = True
    if followed_by:
        message.followed_by = True
    if following and followed_by:
        message.friends = True
    if row.outgoing == "pending":
        message.requested = True
    if row.blocking:
        message.blocking = True
    if row.blocked_by:
        message.blocked_by = True
    if row.muting:
        message.muting = True


def user_stats(user_id: str, row: Record | None) -> pb.UserStats:
    """A user's counts; all zero for a user never counted."""
    if row is None:
        return pb.UserStats(user_id=user_id)
    return pb.UserStats(
        user_id=user_id,
        followers_count=int(row.followers),
        following_count=int(row.following),
        friends_count=int(row.friends),
    )
