"""Notifications: listed newest first, counted unread, marked read; and RecordActivity,
through which content reports comments, replies and mentions."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.social.v1 import social_pb2 as pb

from .conftest import follow, notifications, notified, post_target

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


def activity(kind, actor, recipients, target=None, post_id="") -> pb.RecordActivityRequest:
    return pb.RecordActivityRequest(
        kind=kind,
        actor_id=actor.id,
        recipient_ids=[r.id for r in recipients],
        target=target or pb.Target(kind=pb.TARGET_KIND_COMMENT, id=str(uuid.uuid4())),
        post_id=post_id,
    )


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


# --- RecordActivity --------------------------------------------------------------------


async def test_a_comment_notifies_the_posts_author(stub, service_auth, alice, bob):
    post_id = str(uuid.uuid4())
    comment = pb.Target(kind=pb.TARGET_KIND_COMMENT, id=str(uuid.uuid4()))

    reply = await stub.RecordActivity(
        activity(COMMENT, bob, [alice], comment, post_id), metadata=service_auth
    )

    assert reply.notified_count == 1
    [made] = await notifications(stub, alice)
    assert (made.kind, made.actor_id, made.target, made.post_id) == (
        COMMENT,
        bob.id,
        comment,
        post_id,
    )


async def test_a_mention_notifies_everyone_named_but_the_author(
    stub, service_auth, alice, bob, carol
):
    post = post_target(str(uuid.uuid4()))

    reply = await stub.RecordActivity(
        activity(MENTION, alice, [bob, alice, carol, bob], post, post.id), metadata=service_auth
    )

    assert reply.notified_count == 2
    assert await notified(stub, bob) == [(MENTION, alice.id)]
    assert await notified(stub, carol) == [(MENTION, alice.id)]
    assert await notified(stub, alice) == []


async def test_recording_the_same_activity_twice_notifies_once(stub, service_auth, alice, bob):
    request = activity(REPLY, bob, [alice])

    first = await stub.RecordActivity(request, metadata=service_auth)
    again = await stub.RecordActivity(request, metadata=service_auth)

    assert (first.notified_count, again.notified_count) == (1, 0)
    assert await notified(stub, alice) == [(REPLY, bob.id)]


async def test_no_notification_from_a_blocked_or_notification_muted_user(
    stub, service_auth, accounts, alice
):
    blocked, muted, quiet = [await accounts.create() for _ in range(3)]
    await stub.Block(pb.BlockRequest(user_id=blocked.id), metadata=alice.auth)
    await stub.Mute(pb.MuteRequest(user_id=muted.id, notifications=True), metadata=alice.auth)
    await stub.Mute(pb.MuteRequest(user_id=quiet.id, notifications=False), metadata=alice.auth)

    for actor in (blocked, muted, quiet):
        await stub.RecordActivity(activity(COMMENT, actor, [alice]), metadata=service_auth)

    assert await notified(stub, alice) == [(COMMENT, quiet.id)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": pb.NOTIFICATION_KIND_FOLLOW}, "kind"),
        ({"kind": pb.NOTIFICATION_KIND_UNSPECIFIED}, "kind"),
        ({"actor_id": "x"}, "actor_id"),
        ({"recipient_ids": []}, "recipient_ids"),
        ({"recipient_ids": [str(uuid.uuid4())] * 101}, "recipient_ids"),
        ({"recipient_ids": ["x"]}, "recipient_ids[0]"),
        ({"target": pb.Target(id=str(uuid.uuid4()))}, "target.kind"),
        ({"post_id": "x"}, "post_id"),
    ],
)
async def test_record_activity_names_the_bad_field(
    stub, rejected, service_auth, alice, bob, change, field
):
    request = activity(COMMENT, bob, [alice])
    for name, value in change.items():
        request.ClearField(name)
        if isinstance(value, list):
            getattr(request, name).extend(value)
        elif isinstance(value, pb.Target):
            request.target.CopyFrom(value)
        else:
            setattr(request, name, value)

    failure = await rejected(stub.RecordActivity(request, metadata=service_auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == [field]
