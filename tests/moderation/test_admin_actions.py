"""Admin actions of the other services reach the audit log through their events: status
changes and admins' deletions of accounts (users), posts removed by moderation or by
staff and posts restored (content), tips refunded by an admin (payments); each event once,
an author's own deletion or a recipient's own refund not."""

from __future__ import annotations

import asyncio
import time
import uuid

from daira.content.v1 import content_events_pb2
from daira.moderation.v1 import moderation_pb2 as pb
from daira.payments.v1 import payments_events_pb2
from daira.users.v1 import users_events_pb2, users_pb2
from shared.outbox import envelope
from shared.streams import CONTENT_POSTS, PAYMENTS_TRANSFERS, USERS_ACCOUNTS
from tests import harness

from .conftest import EVENTS_PREFIX, decide, reported_post


async def logged(stub, admin, target_kind, target_id, count=1, wait_seconds=10.0):
    """The entries about a target once there are `count` (events arrive shortly)."""
    request = pb.ListAuditLogRequest(target_kind=target_kind, target_id=target_id)
    deadline = time.monotonic() + wait_seconds
    while True:
        found = list((await stub.ListAuditLog(request, metadata=admin.auth)).entries)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


async def publish(redis_url, family, event) -> None:
    await harness.publish(redis_url, family, event, prefix=EVENTS_PREFIX)


def status_changed(user_id: str, actor: str) -> users_events_pb2.UserStatusChanged:
    return users_events_pb2.UserStatusChanged(
        user_id=user_id,
        actor_id=actor,
        before=users_pb2.USER_STATUS_ACTIVE,
        after=users_pb2.USER_STATUS_BANNED,
        reason="spam",
    )


async def test_a_status_change_in_users_is_an_audit_entry(stub, redis_url, admin):
    user, actor = str(uuid.uuid4()), str(uuid.uuid4())
    event = envelope(
        "users.user.status_changed", user, status_changed(user, actor), request_id="r1"
    )

    await publish(redis_url, USERS_ACCOUNTS, event)

    [entry] = await logged(stub, admin, "user", user)
    assert (entry.actor, entry.action, entry.source) == (actor, "users.set_status", "users")
    assert (entry.before_json, entry.after_json) == ('{"status":"active"}', '{"status":"banned"}')
    assert (entry.reason, entry.request_id) == ("spam", "r1")


async def test_an_event_delivered_twice_is_one_entry(stub, redis_url, admin):
    user, other = str(uuid.uuid4()), str(uuid.uuid4())
    event = envelope("users.user.status_changed", user, status_changed(user, "x"), request_id="r")
    # Handled after both copies: the group reads its stream in order.
    later = envelope("users.user.status_changed", other, status_changed(other, "x"), request_id="r")

    for delivered in (event, event, later):
        await publish(redis_url, USERS_ACCOUNTS, delivered)

    await logged(stub, admin, "user", other)
    assert len(await logged(stub, admin, "user", user, wait_seconds=0)) == 1


async def test_an_admins_deletion_of_an_account_is_an_entry_and_a_users_own_is_not(
    stub, redis_url, admin
):
    deleted_by_admin, deleted_by_self = str(uuid.uuid4()), str(uuid.uuid4())
    for user, actor in ((deleted_by_self, deleted_by_self), (deleted_by_admin, admin.id)):
        deleted = users_events_pb2.UserDeleted(user_id=user, actor_id=actor)
        await publish(
            redis_url, USERS_ACCOUNTS, envelope("users.user.deleted", user, deleted, request_id="r")
        )

    [entry] = await logged(stub, admin, "user", deleted_by_admin)
    assert (entry.actor, entry.action) == (admin.id, "users.delete_user")
    assert await logged(stub, admin, "user", deleted_by_self, wait_seconds=0) == []


async def test_a_moderated_post_is_an_entry_and_an_authors_deletion_is_not(stub, redis_url, admin):
    author = str(uuid.uuid4())
    moderated = content_events_pb2.PostRemoved(
        post_id=str(uuid.uuid4()),
        author_id=author,
        actor_id="moderation",
        removal=content_events_pb2.POST_REMOVAL_MODERATED,
        reason="hate speech",
    )
    own = content_events_pb2.PostRemoved(
        post_id=str(uuid.uuid4()),
        author_id=author,
        actor_id=author,
        removal=content_events_pb2.POST_REMOVAL_DELETED,
    )
    for removed in (own, moderated):
        event = envelope("content.post.removed", removed.post_id, removed, request_id="r")
        await publish(redis_url, CONTENT_POSTS, event)

    [entry] = await logged(stub, admin, "post", moderated.post_id)
    assert (entry.action, entry.source, entry.reason) == (
        "content.remove_post",
        "content",
        "hate speech",
    )
    assert await logged(stub, admin, "post", own.post_id, wait_seconds=0) == []


async def test_a_removal_decided_here_is_entered_by_content_too(
    stub, content_stub, alice, bob, moderator, admin
):
    post, filed = await reported_post(stub, content_stub, alice, bob)
    await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_REMOVE_CONTENT)

    listed = await logged(stub, admin, "post", post.id, count=3)

    [removal] = [e for e in listed if e.source == "content"]
    assert (removal.action, removal.actor) == ("content.remove_post", "service:moderation")


def tip_refunded(actor: str, by_admin: bool) -> payments_events_pb2.TipRefunded:
    return payments_events_pb2.TipRefunded(
        refund_id=str(uuid.uuid4()),
        tip_id=str(uuid.uuid4()),
        currency_code="USD",
        amount=60,
        fee_returned=3,
        refunded_before=40,
        tip_amount=100,
        sender_id=str(uuid.uuid4()),
        recipient_id=str(uuid.uuid4()),
        reason="chargeback",
        actor_id=actor,
        by_admin=by_admin,
        peer="ipv4:127.0.0.1:5000",
    )


async def test_an_admins_refund_is_an_entry_and_a_recipients_own_is_not(stub, redis_url, admin):
    own = tip_refunded(str(uuid.uuid4()), by_admin=False)
    by_admin = tip_refunded(admin.id, by_admin=True)
    for refunded in (own, by_admin):
        event = envelope("payments.tip.refunded", refunded.tip_id, refunded, request_id="r")
        await publish(redis_url, PAYMENTS_TRANSFERS, event)

    [entry] = await logged(stub, admin, "transaction", by_admin.tip_id)
    assert (entry.actor, entry.action, entry.source) == (admin.id, "payments.refund", "payments")
    assert (entry.reason, entry.peer) == ("chargeback", "ipv4:127.0.0.1:5000")
    assert entry.before_json == '{"refunded":40}'
    assert '"refunded":100' in entry.after_json
    assert await logged(stub, admin, "transaction", own.tip_id, wait_seconds=0) == []
