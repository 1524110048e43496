"""What content's events notify: a comment its post's author (COMMENT), a reply its parent
comment's author (REPLY, who is not told COMMENT as well for writing the post), a public
post the users it mentions (MENTION). A followers-only or private post notifies nobody,
since social cannot tell whether a mentioned user may see it. Nobody is told of their own
action, nor of one by someone they block or mute (`notify` decides both in its INSERT).

The handlers run in the consumer's transaction (`shared.consumers`), so a notification is
made once per event however often it is delivered.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_events_pb2, content_pb2
from daira.events.v1 import events_pb2
from services.social.notifications import notify
from shared.eventing import Subscription, payload
from shared.ids import parse_id
from shared.streams import CONTENT_COMMENTS, CONTENT_POSTS

GROUP = "social.notifications"


async def on_comment(conn: AsyncConnection, event: events_pb2.Event) -> None:
    comment = payload(event, content_events_pb2.CommentCreated)
    actor = parse_id("author_id", comment.author_id)
    told: dict[str, str] = {}
    if comment.parent_author_id:
        told[comment.parent_author_id] = "reply"
    told.setdefault(comment.post_author_id, "comment")
    target = ("comment", parse_id("comment_id", comment.comment_id))
    post_id = parse_id("post_id", comment.post_id)
    for recipient, kind in told.items():
        await notify(conn, [parse_id("recipient", recipient)], kind, actor, target, post_id)


def _mentioning(event: events_pb2.Event) -> content_events_pb2.PostCreated | None:
    """The post of a content.post.created that is public and mentions someone."""
    if event.type != "content.post.created":
        return None
    post = payload(event, content_events_pb2.PostCreated)
    if post.visibility != content_pb2.VISIBILITY_PUBLIC or not post.mentioned_user_ids:
        return None
    return post


def _mentions_anyone(event: events_pb2.Event) -> bool:
    """Most posts mention nobody: their events are acknowledged without a transaction."""
    return _mentioning(event) is not None


async def on_post(conn: AsyncConnection, event: events_pb2.Event) -> None:
    post = _mentioning(event)
    if post is not None:
        mentioned = [parse_id("mentioned_user_ids", m) for m in post.mentioned_user_ids]
        author = parse_id("author_id", post.author_id)
        post_id = parse_id("post_id", post.post_id)
        await notify(conn, mentioned, "mention", author, ("post", post_id), post_id)


SUBSCRIPTIONS = [
    Subscription(CONTENT_COMMENTS, GROUP, on_comment),
    Subscription(CONTENT_POSTS, GROUP, on_post, _mentions_anyone),
]
