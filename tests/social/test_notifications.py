"""Notifications: listed newest first, counted unread, marked read; and those content's
events (comments, replies, mentions) make."""

from __future__ import annotations

import uuid

import grpc

from daira.content.v1 import content_events_pb2, content_pb2
from daira.events.v1 import events_pb2
from daira.social.v1 import social_pb2 as pb
from shared.eventing import payload
from shared.outbox import envelope
from shared.streams import CONTENT_COMMENTS, CONTENT_POSTS
from tests import harness

from .conftest import follow, notifications, notifications_once, notified

COMMENT, REPLY, MENTION = (
    pb.NOTIFICATION_KIND_COMMENT,
    pb.NOTIFICATION_KIND_REPLY,
    pb.NOTIFICATION_KIND_MENTION,
)


async def unread(stub, account) -> tuple[int, bool]:
    reply = await stub.CountUnreadNotifications(
        pb.CountUnreadNotificationsRequest(), metadata=account.auth
    )
    return reply.unread_count, reply.capped


async def mark_read(stub, account, up_to_id: str = "") -> int:
    request = pb.MarkNotificationsReadRequest(up_to_id=up_to_id)
    return (await stub.MarkNotificationsRead(request, metadata=account.auth)).marked_count


async def test_notifications_come_newest_first_and_unread(stub, accounts, alice):
    fans = [await accounts.create() for _ in range(3)]
    for fan in fans:
        await follow(stub, fan, alice)

    listed = await notifications(stub, alice)

    assert [n.actor_id for n in listed] == [fan.id for fan in reversed(fans)]
    assert {n.kind for n in listed} == {pb.NOTIFICATION_KIND_FOLLOW}
    assert not any(n.read or n.HasField("target") for n in listed)
    assert await unread(stub, alice) == (3, False)


async def test_mark_read_up_to_one_notification(stub, accounts, alice):
    fans = [await accounts.create() for _ in range(3)]
    for fan in fans:
        await follow(stub, fan, alice)
    newest_first = await notifications(stub, alice)

    marked = await mark_read(stub, alice, newest_first[1].id)

    assert marked == 2
    assert [n.read for n in await notifications(stub, alice)] == [False, True, True]
    assert [n.id for n in await notifications(stub, alice, unread_only=True)] == [
        newest_first[0].id
    ]
    assert await unread(stub, alice) == (1, False)


async def test_mark_all_read(stub, accounts, alice):
    for fan in [await accounts.create() for _ in range(2)]:
        await follow(stub, fan, alice)

    assert await mark_read(stub, alice) == 2
    assert await mark_read(stub, alice) == 0
    assert await unread(stub, alice) == (0, False)
    assert await notifications(stub, alice, unread_only=True) == []


async def test_mark_read_up_to_someone_elses_notification_is_not_found(
    stub, rejected, alice, bob, carol
):
    await follow(stub, alice, bob)
    [theirs] = await notifications(stub, bob)

    failure = await rejected(
        stub.MarkNotificationsRead(
            pb.MarkNotificationsReadRequest(up_to_id=theirs.id), metadata=carol.auth
        )
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert await unread(stub, bob) == (1, False)


async def test_mark_read_names_a_bad_id(stub, rejected, alice):
    request = pb.MarkNotificationsReadRequest(up_to_id="yesterday")

    failure = await rejected(stub.MarkNotificationsRead(request, metadata=alice.auth))

    assert failure.fields == ["up_to_id"]


async def test_a_read_notification_lets_the_same_event_notify_again(stub, alice, bob):
    await follow(stub, alice, bob)
    await stub.Unfollow(pb.UnfollowRequest(user_id=bob.id), metadata=alice.auth)
    await follow(stub, alice, bob)
    assert await unread(stub, bob) == (1, False)

    await mark_read(stub, bob)
    await stub.Unfollow(pb.UnfollowRequest(user_id=bob.id), metadata=alice.auth)
    await follow(stub, alice, bob)

    assert await unread(stub, bob) == (1, False)
    assert len(await notifications(stub, bob)) == 2


async def test_the_unread_count_stops_at_its_cap(stub, social_db, mint):
    reader = mint()
    await social_db.sql(
        "INSERT INTO notifications (id, recipient_id, kind, actor_id, created_at) "
        "SELECT gen_random_uuid(), %s, 'follow', gen_random_uuid(), now() "
        "FROM generate_series(1, 1001)",
        reader.id,
    )

    assert await unread(stub, reader) == (1000, True)


async def test_notification_pages_follow_their_tokens(stub, rejected, social_db, mint):
    reader = mint()
    await social_db.sql(
        "INSERT INTO notifications (id, recipient_id, kind, actor_id, created_at) "
        "SELECT gen_random_uuid(), %s, 'follow', gen_random_uuid(), "
        "now() - make_interval(secs => g) FROM generate_series(1, 45) AS g",
        reader.id,
    )
    request = pb.ListNotificationsRequest(page_size=20)

    pages = []
    while True:
        reply = await stub.ListNotifications(request, metadata=reader.auth)
        pages.append(len(reply.notifications))
        if not reply.next_page_token:
            break
        request.page_token = reply.next_page_token
    mixed = pb.ListNotificationsRequest(unread_only=True, page_token=reply.next_page_token or "x")

    assert pages == [20, 20, 5]
    assert (await rejected(stub.ListNotifications(mixed, metadata=reader.auth))).fields == [
        "page_token"
    ]


# --- content's events ----------------------------------------------------------------


def comment_created(author, post_author, parent_author=None) -> events_pb2.Event:
    comment = content_events_pb2.CommentCreated(
        comment_id=str(uuid.uuid4()),
        post_id=str(uuid.uuid4()),
        author_id=author.id,
        post_author_id=post_author.id,
        parent_author_id=parent_author.id if parent_author else "",
    )
    return envelope("content.comment.created", comment.post_id, comment, request_id="test")


def post_created(author, mentioned, visibility=content_pb2.VISIBILITY_PUBLIC) -> events_pb2.Event:
    post = content_events_pb2.PostCreated(
        post_id=str(uuid.uuid4()),
        author_id=author.id,
        visibility=visibility,
        mentioned_user_ids=[user.id for user in mentioned],
    )
    return envelope("content.post.created", post.post_id, post, request_id="test")


async def test_a_comment_event_notifies_the_posts_author(stub, redis_url, alice, bob):
    event = comment_created(bob, post_author=alice)

    await harness.publish(redis_url, CONTENT_COMMENTS, event)

    [made] = await notifications_once(stub, alice, 1)
    comment = payload(event, content_events_pb2.CommentCreated)
    assert (made.kind, made.actor_id, made.post_id) == (COMMENT, bob.id, comment.post_id)
    assert made.target == pb.Target(kind=pb.TARGET_KIND_COMMENT, id=comment.comment_id)


async def test_a_reply_event_notifies_the_parent_and_the_posts_authors(
    stub, redis_url, alice, bob, carol
):
    await harness.publish(redis_url, CONTENT_COMMENTS, comment_created(carol, alice, bob))

    assert [(n.kind, n.actor_id) for n in await notifications_once(stub, bob, 1)] == [
        (REPLY, carol.id)
    ]
    assert [(n.kind, n.actor_id) for n in await notifications_once(stub, alice, 1)] == [
        (COMMENT, carol.id)
    ]


async def test_a_mention_event_notifies_everyone_named_but_the_author(
    stub, redis_url, alice, bob, carol
):
    await harness.publish(redis_url, CONTENT_POSTS, post_created(alice, [bob, alice, carol]))

    assert [(n.kind, n.actor_id) for n in await notifications_once(stub, bob, 1)] == [
        (MENTION, alice.id)
    ]
    assert [(n.kind, n.actor_id) for n in await notifications_once(stub, carol, 1)] == [
        (MENTION, alice.id)
    ]
    assert await notified(stub, alice) == []


async def test_an_event_delivered_twice_notifies_once(stub, redis_url, alice, bob, carol):
    event = comment_created(bob, post_author=alice)

    await harness.publish(redis_url, CONTENT_COMMENTS, event)
    await harness.publish(redis_url, CONTENT_COMMENTS, event)
    # Handled after both copies: the group reads its stream in order.
    await harness.publish(redis_url, CONTENT_COMMENTS, comment_created(carol, post_author=alice))

    kinds = [(n.kind, n.actor_id) for n in await notifications_once(stub, alice, 2)]
    assert kinds == [(COMMENT, carol.id), (COMMENT, bob.id)]


async def test_no_notification_from_a_blocked_or_notification_muted_user(
    stub, redis_url, accounts, alice
):
    blocked, muted, quiet = [await accounts.create() for _ in range(3)]
    await stub.Block(pb.BlockRequest(user_id=blocked.id), metadata=alice.auth)
    await stub.Mute(pb.MuteRequest(user_id=muted.id, notifications=True), metadata=alice.auth)
    await stub.Mute(pb.MuteRequest(user_id=quiet.id, notifications=False), metadata=alice.auth)

    for actor in (blocked, muted, quiet):
        await harness.publish(redis_url, CONTENT_COMMENTS, comment_created(actor, alice))

    assert [(n.kind, n.actor_id) for n in await notifications_once(stub, alice, 1)] == [
        (COMMENT, quiet.id)
    ]


async def test_an_event_that_is_not_a_comment_ends_in_the_dead_letter_stream(redis_url, bob):
    not_a_comment = content_events_pb2.PostCreated(post_id=str(uuid.uuid4()), author_id=bob.id)
    wrong = envelope("content.comment.created", "x", not_a_comment, request_id="test")

    await harness.publish(redis_url, CONTENT_COMMENTS, wrong)

    assert await harness.dead_letter(redis_url, CONTENT_COMMENTS, wrong.id)
