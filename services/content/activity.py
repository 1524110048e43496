"""What social is told of a new comment or post: whom to notify, of what.

A comment notifies its post's author (COMMENT); a reply notifies its parent comment's
author (REPLY), who is not told COMMENT as well for writing the post. A public post
notifies the users it mentions (MENTION); a followers-only or private post does not,
since RecordActivity cannot tell whether a mentioned user may see it. Comments parse no
mentions. Nobody is told of their own action; social also skips those who block or
mute the actor.
"""

from __future__ import annotations

from collections.abc import Sequence

from daira.content.v1 import content_pb2 as pb
from daira.social.v1 import social_pb2

Activity = social_pb2.RecordActivityRequest


def of_comment(comment: pb.Comment, post_author: str, parent_author: str | None) -> list[Activity]:
    target = social_pb2.Target(kind=social_pb2.TARGET_KIND_COMMENT, id=comment.id)
    told: dict[str, social_pb2.NotificationKind.ValueType] = {}
    if parent_author is not None:
        told[parent_author] = social_pb2.NOTIFICATION_KIND_REPLY
    told.setdefault(post_author, social_pb2.NOTIFICATION_KIND_COMMENT)
    made = (
        _activity(kind, comment.author_id, [recipient], target, comment.post_id)
        for recipient, kind in told.items()
    )
    return [activity for activity in made if activity is not None]


def of_post(post: pb.Post) -> list[Activity]:
    if post.visibility != pb.VISIBILITY_PUBLIC:
        return []
    target = social_pb2.Target(kind=social_pb2.TARGET_KIND_POST, id=post.id)
    mentioned = [mention.user_id for mention in post.mentions]
    activity = _activity(
        social_pb2.NOTIFICATION_KIND_MENTION, post.author_id, mentioned, target, post.id
    )
    return [] if activity is None else [activity]


def _activity(
    kind: social_pb2.NotificationKind.ValueType,
    actor: str,
    recipients: Sequence[str],
    target: social_pb2.Target,
    post_id: str,
) -> Activity | None:
    """The request, or None when it would notify nobody but the actor."""
    others = [recipient for recipient in recipients if recipient != actor]
    if not others:
        return None
    return Activity(kind=kind, actor_id=actor, recipient_ids=others, target=target, post_id=post_id)
