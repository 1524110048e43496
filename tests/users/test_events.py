"""The users service's events: account deletions and status changes reach the other
services through its outbox."""

from __future__ import annotations

from daira.users.v1 import users_events_pb2, users_pb2
from shared.eventing import payload
from shared.streams import USERS_ACCOUNTS
from tests import harness


async def test_deleting_a_user_publishes_user_deleted(alice, stub, redis_url):
    await stub.DeleteUser(users_pb2.DeleteUserRequest(id=alice.id), metadata=alice.auth)

    (event,) = await harness.published(redis_url, USERS_ACCOUNTS, alice.id)

    assert event.type == "users.user.deleted"
    deleted = payload(event, users_events_pb2.UserDeleted)
    assert (deleted.user_id, deleted.actor_id) == (alice.id, alice.id)


async def test_a_deletion_names_the_username_it_frees(alice, stub, redis_url):
    await stub.DeleteUser(users_pb2.DeleteUserRequest(id=alice.id), metadata=alice.auth)

    (event,) = await harness.published(redis_url, USERS_ACCOUNTS, alice.id)

    assert payload(event, users_events_pb2.UserDeleted).username == alice.username


async def test_a_status_change_publishes_before_and_after(alice, moderator, stub, redis_url):
    request = users_pb2.SetUserStatusRequest(
        user_id=alice.id, status=users_pb2.USER_STATUS_BANNED, reason="spam"
    )
    await stub.SetUserStatus(request, metadata=moderator.auth)

    (event,) = await harness.published(redis_url, USERS_ACCOUNTS, alice.id)

    changed = payload(event, users_events_pb2.UserStatusChanged)
    assert event.type == "users.user.status_changed"
    assert changed.actor_id == moderator.id
    assert changed.before == users_pb2.USER_STATUS_ACTIVE
    assert changed.after == users_pb2.USER_STATUS_BANNED
    assert changed.reason == "spam"


async def test_a_refused_deletion_publishes_nothing(alice, bob, stub, rejected, redis_url):
    await rejected(stub.DeleteUser(users_pb2.DeleteUserRequest(id=alice.id), metadata=bob.auth))

    assert await harness.published(redis_url, USERS_ACCOUNTS, alice.id, wait_seconds=0.5) == []
